"""The report per path (each branch exit and each whole path, against the holdout), the flow on the playbook page,
and the editor's then / else targets and until-conditions, with refusals shown on their field."""

from __future__ import annotations

import pytest
from django.urls import reverse

from automations import playbooks
from automations.models import Enrolment, Playbook
from automations.playbook_forms import PlaybookForm
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

RED = {"type": "health_band", "in": ["red"]}


@pytest.fixture
def routed():
    playbook = playbooks.playbook_save(key="triage", name="Triage", holdout_percent=0, steps=[
        ("branch", {"condition": RED, "then": 3, "else": "next"}),
        ("task", {"title": "Nurture"}),
        ("task", {"title": "Escalate"}),
    ])  # fmt: skip
    for i in range(3):
        playbooks.playbook_enrol(playbook=playbook, account=AccountFactory(name=f"Red {i}", health_band="red"))
    for i in range(2):
        account = AccountFactory(name=f"Green {i}", health_band="green", status="churned" if i else "active")
        playbooks.playbook_enrol(playbook=playbook, account=account)
    for i in range(4):  # held out: no path, the comparison group
        account = AccountFactory(name=f"Held {i}", status="churned" if i < 2 else "active")
        Enrolment.objects.create(playbook=playbook, account=account, holdout=True, status="held_out")
    return playbook


def test_the_report_counts_each_exit_and_path_against_the_holdout(routed):
    exits = {x["outcome"]: x for x in playbooks.playbook_exits(playbook=routed)}
    assert (exits["then"]["n"], exits["then"]["completed"], exits["then"]["retained"]) == (3, 3, 3)
    assert (exits["else"]["n"], exits["else"]["retained"]) == (2, 1)
    assert exits["then"]["retention"]["a"] == 1.0 and exits["then"]["retention"]["b"] == 0.5
    assert exits["else"]["retention"]["diff"] == pytest.approx(0.0)
    paths = playbooks.playbook_paths(playbook=routed)
    assert [([(s["order"], s["outcome"]) for s in p["steps"]], p["n"]) for p in paths] == [
        ([(1, "then"), (3, "")], 3),
        ([(1, "else"), (2, ""), (3, "")], 2),
    ]
    assert playbooks.playbook_impact(playbook=routed)["n_holdout"] == 4  # the impact report keeps working


def test_the_playbook_page_shows_the_flow_the_paths_and_each_enrolments_path(client, csm, routed):
    client.force_login(csm)
    page = client.get(reverse("automations:playbook-detail", args=[routed.pk])).content.decode()
    assert "<svg" in page and 'id="flow-step-3"' in page
    assert "then · 3" in page and "else · 2" in page  # the branch's exits, labelled with how many took them
    assert 'id="playbook-paths"' in page and 'id="playbook-exits"' in page
    assert page.count('class="playbook-enrolment"') == 9
    assert page.count('class="playbook-path"') == 2 + 9  # the two paths taken; each enrolment's (none if held out)


def _post(rows, **extra) -> dict:
    data = {"name": "Rescue", "key": "rescue", "holdout_percent": "0", "enabled": "on"}
    for i, row in enumerate(rows):
        for field, value in row.items():
            data[f"step_{i}_{field}"] = value
    return data | extra


ROWS = [
    {"kind": "task", "params": "title=Call; due_in_days=2"},
    {"kind": "wait", "params": "days=5", "until": "condition=task_outcome; outcome=completed"},
    {"kind": "branch", "params": "condition=health_band; in=red; reason=Still red", "then": "5", "else": "next"},
    {"kind": "task", "params": "title=Celebrate"},
    {"kind": "task", "params": "title=Escalate"},
]


def test_the_editor_sets_then_else_targets_and_until_conditions(client, manager):
    client.force_login(manager)
    response = client.post(reverse("automations:playbook-create"), _post(ROWS))
    assert response.status_code == 302
    playbook = Playbook.objects.get(key="rescue")
    configs = list(playbook.steps.values_list("config", flat=True))
    assert configs[1] == {"days": 5, "until": {"type": "task_outcome", "outcome": "completed"}}
    assert configs[2] == {"condition": {"type": "health_band", "in": ["red"]}, "reason": "Still red", "then": 5,
                          "else": "next"}  # fmt: skip
    initial = PlaybookForm.initial_for(playbook)
    assert (initial["step_2_then"], initial["step_2_else"]) == ("5", "next")
    assert initial["step_1_until"] == "condition=task_outcome; outcome=completed"
    edit = client.get(reverse("automations:playbook-edit", args=[playbook.pk])).content.decode()
    assert "<svg" in edit


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"then": "7"}, "step_2_then", "goes to 7"),
        ({"else": "3"}, "step_2_else", "routes the step to itself"),
        ({"then": "1", "else": "next"}, "step_2_then", "loops back without a wait"),
        ({"params": "condition=task_outcome; outcome=someday"}, "step_2_params", "&#x27;outcome&#x27; is one of"),
    ],
)
def test_bad_routes_are_errors_on_their_field(client, manager, change, field, message):
    rows = [dict(r) for r in ROWS]
    rows[1] = {"kind": "task", "params": "title=No wait"}  # so that a loop back has no wait in it
    rows[2] |= change
    client.force_login(manager)
    response = client.post(reverse("automations:playbook-create"), _post(rows))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in response.content.decode()
    assert not Playbook.objects.exists()


def test_a_route_or_until_on_the_wrong_kind_of_step_is_a_field_error(client, manager):
    client.force_login(manager)
    rows = [{"kind": "task", "params": "title=A", "then": "next"},
            {"kind": "task", "params": "title=B", "until": "condition=email_opened"},
            {"kind": "wait", "params": "days=2", "until": "days=3"}]  # fmt: skip
    response = client.post(reverse("automations:playbook-create"), _post(rows))
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "Only a branch" in str(errors["step_0_then"]) and "Only a wait" in str(errors["step_1_until"])
    assert "condition=" in str(errors["step_2_until"])
