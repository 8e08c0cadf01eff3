"""The timeline writes each audited change in the reader's language from the entry's details; the stored subject
(API, exports) stays as recorded, and entries with details it does not know keep their stored sentence."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import services
from accounts.change_text import change_text
from accounts.models import AccountStatus, Activity, ActivityKind

pytestmark = pytest.mark.django_db


def latest_change(account) -> Activity:
    return Activity.objects.filter(account=account, kind=ActivityKind.CHANGE).latest("id")


def test_a_status_change_reads_in_each_language(own_account, csm):
    services.account_set_status(account=own_account, status=AccountStatus.AT_RISK, actor=csm)
    entry = latest_change(own_account)
    with translation.override("en"):
        assert entry.subject_display == entry.subject
    with translation.override("it"):
        assert entry.subject_display == "Stato cambiato da Attivo a A rischio"
    with translation.override("bg"):
        assert entry.subject_display == "Статус променен от Активен на В риск"
    assert entry.subject == "Status changed from Active to At risk"  # stored as recorded


@pytest.mark.parametrize(
    ("details", "italian"),
    [
        ({"field": "tags", "old": "", "new": "vip"}, "Tag “vip” aggiunto"),
        ({"field": "tags", "old": "vip", "new": ""}, "Tag “vip” rimosso"),
        ({"field": "playbook", "old": "", "new": "Rescue", "holdout": False}, "Iscritto al playbook “Rescue”"),
        (
            {"field": "playbook", "old": "", "new": "Rescue", "holdout": True},
            "Escluso dal playbook “Rescue” (gruppo di controllo)",
        ),
        (
            {"field": "attribute plan", "old": "", "new": "Pro"},
            "Attributo “plan” cambiato da — a Pro",
        ),
        (
            {"field": "subscriptions", "old": "active", "new": "paused until 2027-01-15"},
            "Abbonamenti cambiato da attivi a sospesi fino al 15 gen 2027",
        ),
        ({"field": "owner", "old": "Dana Reyes", "new": ""}, "Responsabile cambiato da Dana Reyes a —"),
    ],
)
def test_changes_of_every_kind_in_italian(details, italian):
    with translation.override("it"):
        assert change_text(details, "stored") == italian


@pytest.mark.parametrize(
    "details",
    [
        {},
        {"field": "playbook", "old": "", "new": "Rescue"},  # recorded before entries kept `holdout`
        {"field": "something_new", "old": "a", "new": "b"},
        {"field": "status", "old": None, "new": "Active"},
    ],
)
def test_unknown_details_keep_the_stored_sentence(details):
    with translation.override("it"):
        assert change_text(details, "as stored") == "as stored"


def test_the_customer_360_timeline_shows_the_readers_language(client, own_account, csm):
    services.account_set_status(account=own_account, status=AccountStatus.AT_RISK, actor=csm)
    client.force_login(csm)
    url = reverse("account-section", args=[own_account.pk, "timeline"])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="it", HTTP_HX_REQUEST="true").content.decode()
    assert "Stato cambiato da Attivo a A rischio" in page
    assert "Status changed from" not in page
