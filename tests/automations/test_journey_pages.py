"""The journey editor: managers build journeys and onboarding templates with milestones; others read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from automations import journeys
from automations.models import Journey, Milestone, MilestoneProgress
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _post(rows, **extra) -> dict:
    data = {"name": "Onboarding SMB", "key": "onboarding-smb", "onboarding": "on", "segment": "smb"}
    for i, row in enumerate(rows):
        for field, value in row.items():
            data[f"ms_{i}_{field}"] = value
    return data | extra


ROWS = [
    {"name": "Account setup", "kind": "event", "params": "event_type=list_imported", "owner_role":
     "Implementation specialist", "due_days": "7"},
    {"name": "100 subscribers", "kind": "attribute", "params": "name=subscribers; at_least=100", "due_days": "30",
     "stage": "adopted", "first_value": "on"},
    {"name": "Kick-off call", "kind": "manual", "owner_role": "CSM"},
]  # fmt: skip


def test_manager_creates_an_onboarding_template_and_edits_it_keeping_progress(client, manager):
    client.force_login(manager)
    assert client.get(reverse("automations:journey-create")).status_code == 200
    response = client.post(reverse("automations:journey-create"), _post(ROWS))
    assert response.status_code == 302
    journey = Journey.objects.get(key="onboarding-smb")
    assert (journey.onboarding, journey.segment) == (True, "smb")
    rows = list(journey.milestones.values_list("order", "key", "condition", "stage", "owner_role", "due_days",
                                               "first_value"))  # fmt: skip
    assert rows == [
        (1, "account-setup", {"type": "event", "event_type": "list_imported"}, "", "Implementation specialist", 7,
         False),
        (2, "100-subscribers", {"type": "attribute", "name": "subscribers", "at_least": 100}, "adopted", "", 30, True),
        (3, "kick-off-call", {"type": "manual"}, "", "CSM", None, False),
    ]  # fmt: skip
    account = AccountFactory(segment="smb", created_at=timezone.now() - dt.timedelta(days=2))
    journeys.journey_apply(journey=journey)
    setup = MilestoneProgress.objects.get(account=account, milestone__key="account-setup")

    page = client.get(reverse("automations:journey-edit", args=[journey.pk]))
    assert page.status_code == 200 and page.context["form"].initial["ms_1_params"] == "name=subscribers; at_least=100"
    # Reorder (kick-off first), change a due offset, drop the 100-subscribers milestone.
    edited = [ROWS[2] | {"key": "kick-off-call"}, ROWS[0] | {"key": "account-setup", "due_days": "10"}]
    assert client.post(reverse("automations:journey-edit", args=[journey.pk]), _post(edited)).status_code == 302
    assert list(journey.milestones.values_list("key", "order")) == [("kick-off-call", 1), ("account-setup", 2)]
    setup.refresh_from_db()  # the progress is kept and follows the new due offset
    assert setup.due_at == setup.started_at + dt.timedelta(days=10)
    assert not Milestone.objects.filter(key="100-subscribers").exists()
    listing = client.get(reverse("automations:journey-list")).content.decode()
    assert "Onboarding SMB" in listing and reverse("automations:journey-edit", args=[journey.pk]) in listing


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        ([], {}, "Add at least one milestone."),
        ([{"name": "", "kind": "event", "params": "event_type=x"}], {}, "Give this milestone a name."),
        ([{"name": "A", "kind": "event"}], {}, "an event condition needs event_type"),
        ([{"name": "A", "kind": "event", "params": "event_type=x; count=0"}], {}, "count must be a whole number"),
        ([{"name": "A", "kind": "event", "params": "event_type=x; property=rows"}], {}, "at_least must be a number"),
        ([{"name": "A", "kind": "attribute", "params": "at_least=3"}], {}, "needs the property"),
        ([{"name": "A", "kind": "active_users", "params": "at_least=many"}], {}, "at_least must be a whole number"),
        ([{"name": "A", "params": "oops"}], {}, "is not key=value"),
        ([{"name": "A", "due_days": "-3"}], {}, "greater than or equal to 0"),
        ([{"name": "A"}, {"name": "a"}], {}, "used twice"),
        ([{"name": "A"}], {"segment": "galactic"}, "Select a valid choice"),
        ([{"name": "A"}], {"key": "no spaces please"}, "Enter a valid"),
    ],
)
def test_bad_input_is_a_form_error_and_saves_nothing(client, manager, rows, extra, message):
    client.force_login(manager)
    response = client.post(reverse("automations:journey-create"), _post(rows, **extra))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Journey.objects.exists() and not Milestone.objects.exists()


def test_csm_and_viewer_read_journeys_but_cannot_edit_them(client, csm, viewer):
    journey = journeys.journey_save(key="j", name="J", milestones=[{"name": "M", "condition": {"type": "paid"}}])
    for user in (csm, viewer):
        client.force_login(user)
        listing = client.get(reverse("automations:journey-list"))
        assert listing.status_code == 200 and reverse("automations:journey-create").encode() not in listing.content
        assert client.get(reverse("automations:journey-funnel", args=[journey.pk])).status_code == 200
        assert client.get(reverse("automations:journey-create")).status_code == 403
        assert client.post(reverse("automations:journey-edit", args=[journey.pk]),
                           _post([{"name": "Other"}])).status_code == 403  # fmt: skip
    assert list(journey.milestones.values_list("name", flat=True)) == ["M"]


def test_the_account_team_is_set_on_the_customer_360(client, csm, viewer):
    from automations.models import AccountRole
    from tests.factories import UserFactory

    account = AccountFactory(owner=csm, name="Acme")
    ivy = UserFactory(username="ivy")
    journeys.journey_save(key="j", name="J", milestones=[{"name": "Setup", "owner_role": "Implementation specialist",
                                                          "condition": {"type": "manual"}}])  # fmt: skip
    url = reverse("automations:account-role-assign", args=[account.pk])
    client.force_login(viewer)
    assert client.post(url, {"role": "Implementation specialist", "user": ivy.pk}).status_code == 403
    client.force_login(csm)  # the owner may set the account's team
    section = client.get(reverse("automations:account-automations", args=[account.pk])).content.decode()
    # The section offers the form; the list of every user is rendered only when it is asked for.
    assert "Assign a role…" in section and 'name="user"' not in section
    form = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert '<option value="Implementation specialist">' in form  # suggested from the milestones
    assert f'<option value="{ivy.pk}">' in form and 'name="role"' in form
    response = client.post(url, {"role": "Implementation specialist", "user": ivy.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert "Implementation specialist</strong>: " in response.content.decode()
    assert AccountRole.objects.get(account=account).user == ivy
    assert "Assign a role…" in response.content.decode()  # saved: the form folds back into its button
    bad = client.post(url, {"role": "  ", "user": ivy.pk}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "This field is required." in bad.content.decode()
    assert 'name="user"' in bad.content.decode()  # the form stays open with its error
    client.post(url, {"role": "Implementation specialist", "user": ""}, HTTP_HX_REQUEST="true")
    assert not AccountRole.objects.exists()
