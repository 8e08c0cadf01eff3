"""The admins' pages: the personal data card on the Customer 360, the erasure confirmation (what is removed, what is
kept, typed confirmation) and the export download; every other role is refused."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.models import Contact, ImportJob, ImportStatus
from tests.privacy.planting import EMAIL, NAME, PERSON_MARKERS, tables_mentioning

pytestmark = pytest.mark.django_db


def _urls(planted) -> list[str]:
    return [
        reverse("privacy:account-card", args=[planted.account.pk]),
        reverse("privacy:account-erase", args=[planted.account.pk]),
        reverse("privacy:account-export", args=[planted.account.pk]),
        reverse("privacy:contact-erase", args=[planted.contact.pk]),
        reverse("privacy:contact-export", args=[planted.contact.pk]),
    ]


def test_an_admin_sees_the_card_and_its_buttons(client, admin_user, planted):
    client.force_login(admin_user)
    page = client.get(reverse("account-detail", args=[planted.account.pk])).content.decode()
    card_url = reverse("privacy:account-card", args=[planted.account.pk])
    assert f'hx-get="{card_url}"' in page
    card = client.get(card_url).content.decode()
    assert "Erase personal data…" in card
    assert reverse("privacy:contact-erase", args=[planted.contact.pk]) in card
    assert reverse("privacy:account-export", args=[planted.account.pk]) in card


@pytest.mark.parametrize("role", ["viewer", "csm", "manager"])
def test_other_roles_see_no_card_and_are_refused(client, request, planted, role):
    client.force_login(request.getfixturevalue(role))
    page = client.get(reverse("account-detail", args=[planted.account.pk])).content.decode()
    assert "privacy" not in page
    for url in _urls(planted):
        assert client.get(url).status_code == 403, url
    confirmation = {"confirmation": EMAIL}
    assert client.post(reverse("privacy:contact-erase", args=[planted.contact.pk]), confirmation).status_code == 403
    assert Contact.objects.get(pk=planted.contact.pk).email == EMAIL


def test_the_confirmation_says_what_is_removed_and_what_is_kept(client, admin_user, planted):
    client.force_login(admin_user)
    page = client.get(reverse("privacy:contact-erase", args=[planted.contact.pk])).content.decode()
    assert "What will be removed" in page and "What is kept" in page
    assert "<code>accounts.UsageEvent</code>" in page and "<code>messaging.EmailMessage</code>" in page
    assert f"<code>{EMAIL}</code>" in page  # what to type
    assert "Subscriptions with their MRR history" in page


def test_a_wrong_confirmation_erases_nothing(client, admin_user, planted):
    client.force_login(admin_user)
    url = reverse("privacy:contact-erase", args=[planted.contact.pk])
    response = client.post(url, {"confirmation": "someone@else.test"})
    assert response.status_code == 200
    assert "type it exactly as shown" in response.content.decode()
    assert Contact.objects.get(pk=planted.contact.pk).email == EMAIL


def test_the_typed_confirmation_erases_and_goes_back_to_the_account(
    client, admin_user, planted, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    url = reverse("privacy:contact-erase", args=[planted.contact.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"confirmation": f"  {EMAIL.upper()} "}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("account-detail", args=[planted.account.pk])
    text = response.content.decode()
    assert "Personal data erased:" in text and NAME not in text
    assert tables_mentioning(PERSON_MARKERS) == {}


def test_an_account_is_confirmed_by_its_name(client, admin_user, planted):
    client.force_login(admin_user)
    url = reverse("privacy:account-erase", args=[planted.account.pk])
    assert "<code>Acme Mail</code>" in client.get(url).content.decode()
    assert client.post(url, {"confirmation": "acme mail"}).status_code == 302
    planted.account.refresh_from_db()
    assert planted.account.name == f"Erased account {planted.account.pk}"


def test_a_refused_erasure_says_why(client, admin_user, planted):
    ImportJob.objects.filter(kind="contacts").update(status=ImportStatus.RUNNING)
    client.force_login(admin_user)
    url = reverse("privacy:contact-erase", args=[planted.contact.pk])
    response = client.post(url, {"confirmation": EMAIL})
    assert response.status_code == 200 and "still reading a file about them" in response.content.decode()
    assert Contact.objects.get(pk=planted.contact.pk).email == EMAIL


def test_the_export_downloads_the_bundle(client, admin_user, planted):
    client.force_login(admin_user)
    response = client.get(reverse("privacy:contact-export", args=[planted.contact.pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    bundle = json.loads(b"".join(response.streaming_content))
    assert EMAIL in json.dumps(bundle["data"]["accounts.Contact"])
