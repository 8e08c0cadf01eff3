"""The playbook editor: managers build playbooks with ordered steps; others read; bad input is a form error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from automations import playbooks
from automations.models import Playbook, PlaybookStep
from automations.playbook_forms import PlaybookForm
from tests.factories import AccountFactory
from tests.messaging.factories import EmailTemplateFactory

pytestmark = pytest.mark.django_db


def _post(**steps) -> dict:
    data = {"name": "Rescue", "key": "rescue", "trigger": "Health below 50", "owner_role": "CSM", "metric": "health",
            "holdout_percent": "10", "enabled": "on"}  # fmt: skip
    for i, (kind, params) in enumerate(steps.get("rows", [])):
        data[f"step_{i}_kind"], data[f"step_{i}_params"] = kind, params
    return data


ROWS = [
    ("task", "title=Call {{ account.name }}; priority=high; due_in_days=2"),
    ("email", "template=check-in; to=contact"),
    ("wait", "days=7"),
    ("branch", "condition=health_below; value=70; negate=true; reason=Health recovered"),
    ("task", "title=Escalate; assignee=role:Manager"),
]


def test_manager_creates_and_edits_a_playbook_with_ordered_steps(client, manager):
    EmailTemplateFactory(key="check-in")
    client.force_login(manager)
    assert client.get(reverse("automations:playbook-create")).status_code == 200
    response = client.post(reverse("automations:playbook-create"), _post(rows=ROWS))
    playbook = Playbook.objects.get(key="rescue")
    assert response.status_code == 302 and response["Location"] == reverse("automations:playbook-detail",
                                                                           args=[playbook.pk])  # fmt: skip
    assert (playbook.holdout_percent, playbook.enabled, playbook.owner_role) == (10, True, "CSM")
    steps = list(playbook.steps.values_list("order", "kind", "config"))
    assert steps == [
        (1, "task", {"title": "Call {{ account.name }}", "priority": "high", "due_in_days": 2}),
        (2, "email", {"template": "check-in", "to": "contact"}),
        (3, "wait", {"days": 7}),
        (4, "branch", {"condition": {"not": {"type": "health_below", "value": 70}}, "reason": "Health recovered"}),
        (5, "task", {"title": "Escalate", "assignee": "role:Manager"}),
    ]
    # The editor shows the steps as they were entered, and saving again replaces them as a whole.
    page = client.get(reverse("automations:playbook-edit", args=[playbook.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["step_3_params"] == ROWS[3][1]
    client.post(reverse("automations:playbook-edit", args=[playbook.pk]), _post(rows=[("wait", "days=3")]) | {
        "enabled": ""})  # fmt: skip
    playbook.refresh_from_db()
    assert not playbook.enabled
    assert list(playbook.steps.values_list("order", "kind")) == [(1, "wait")]
    detail = client.get(reverse("automations:playbook-detail", args=[playbook.pk]))
    assert reverse("automations:playbook-edit", args=[playbook.pk]).encode() in detail.content


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        ([], {}, "Add at least one step."),
        ([("task", "priority=high")], {}, "Step 1 (task): a task needs a title."),
        ([("task", "title=T; priority=whenever")], {}, "priority is one of"),
        ([("task", "title=T; due_in_days=-1")], {}, "due_in_days is a whole number"),
        ([("email", "template=missing")], {}, "no email template"),
        ([("wait", "days=0")], {}, "wait a number of days"),
        ([("wait", "days=soon")], {}, "wait a number of days"),
        ([("branch", "value=70")], {}, "A branch needs condition="),
        ([("branch", "condition=nonsense")], {}, "Unknown condition"),
        ([("", "days=3")], {}, "Choose the kind of this step."),
        ([("task", "title")], {}, "is not key=value"),
        ([("wait", "days=1")], {"holdout_percent": "80"}, "less than or equal to 50"),
        ([("wait", "days=1")], {"key": "not a slug!"}, "Enter a valid"),
        ([], {"advanced": "- {kind: wait}"}, "wait a number of days"),
        ([], {"advanced": "kind: [unclosed"}, "Not valid YAML"),
        ([], {"advanced": "just text"}, "must be a list of steps"),
    ],
)
def test_bad_input_is_a_form_error_and_saves_nothing(client, manager, rows, extra, message):
    client.force_login(manager)
    response = client.post(reverse("automations:playbook-create"), _post(rows=rows) | extra)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Playbook.objects.exists() and not PlaybookStep.objects.exists()


def test_a_bad_step_on_edit_keeps_the_old_steps(client, manager):
    playbook = playbooks.playbook_save(key="p", name="P", steps=[("wait", {"days": 2})])
    client.force_login(manager)
    response = client.post(reverse("automations:playbook-edit", args=[playbook.pk]),
                           _post(rows=[("task", "title=New"), ("wait", "days=0")]) | {"key": "p"})  # fmt: skip
    assert response.status_code == 200 and "Step 2 (wait)" in response.content.decode()
    assert list(playbook.steps.values_list("kind", "config")) == [("wait", {"days": 2})]


def test_the_key_must_be_unique(client, manager):
    playbooks.playbook_save(key="rescue", name="Other", steps=[("wait", {"days": 2})])
    client.force_login(manager)
    response = client.post(reverse("automations:playbook-create"), _post(rows=[("wait", "days=1")]))
    assert "Another playbook has the key" in response.content.decode()
    assert Playbook.objects.count() == 1


def test_csm_and_viewer_read_playbooks_but_cannot_edit_them(client, csm, viewer):
    playbook = playbooks.playbook_save(key="p", name="P", steps=[("wait", {"days": 2})])
    for user in (csm, viewer):
        client.force_login(user)
        listing = client.get(reverse("automations:playbook-list"))
        assert listing.status_code == 200 and reverse("automations:playbook-create").encode() not in listing.content
        assert client.get(reverse("automations:playbook-detail", args=[playbook.pk])).status_code == 200
        assert client.get(reverse("automations:playbook-create")).status_code == 403
        assert client.get(reverse("automations:playbook-edit", args=[playbook.pk])).status_code == 403
        assert client.post(reverse("automations:playbook-edit", args=[playbook.pk]),
                           _post(rows=[("wait", "days=9")])).status_code == 403  # fmt: skip
    assert list(playbook.steps.values_list("config", flat=True)) == [{"days": 2}]
    client.logout()
    assert client.get(reverse("automations:playbook-create")).status_code == 302  # to the login page


def test_a_nested_branch_is_edited_as_yaml():
    tree = {"any": [{"type": "health_below", "value": 50}, {"type": "inactive_days", "days": 10}]}
    playbook = playbooks.playbook_save(key="p", name="P", steps=[("branch", {"condition": tree, "reason": "R"})])
    initial = PlaybookForm.initial_for(playbook)
    assert "health_below" in initial["advanced"] and "step_0_kind" not in initial


def test_the_list_shows_active_enrolments_with_their_progress(client, manager):
    playbook = playbooks.playbook_save(key="p", name="Cadence", steps=[("wait", {"days": 7}), ("wait", {"days": 7})])
    account = AccountFactory(name="Acme")
    playbooks.playbook_enrol(playbook=playbook, account=account)
    playbooks.enrolments_advance_due()
    client.force_login(manager)
    page = client.get(reverse("automations:playbook-list")).content.decode()
    assert "Acme" in page and "step 2" in page
