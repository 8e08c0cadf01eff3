"""Playbooks that branch: routing then / else, old branch configs, waits until a condition or a timeout, loops
through a wait, the enrolment's own conditions, the validation of routes, and set-based advancing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Task
from automations import conditions, playbooks
from automations.models import Enrolment, EnrolmentStepRun
from messaging.models import EmailMessage
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.messaging.factories import EmailTemplateFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
RED = {"type": "health_band", "in": ["red"]}


def _account(name: str, band: str = "green"):
    owner = UserFactory(username=f"owner-{name.lower()}")
    account = AccountFactory(name=name, owner=owner, health_band=band)
    ContactFactory(account=account, email=f"{name.lower()}@example.com")
    return account


def _path(enrolment) -> list[tuple[int, str]]:
    return list(
        EnrolmentStepRun.objects.filter(enrolment=enrolment).order_by("ran_at", "id").values_list("order", "outcome")
    )


def _enrol(playbook, account, at=T0):
    with time_machine.travel(at, tick=False):
        enrolment, _ = playbooks.playbook_enrol(playbook=playbook, account=account)
    enrolment.refresh_from_db()
    return enrolment


def _advance(at: dt.datetime) -> int:
    with time_machine.travel(at, tick=False):
        return playbooks.enrolments_advance_due()


def test_a_branch_routes_each_enrolment_to_its_then_or_else_target():
    playbook = playbooks.playbook_save(key="route", name="Route", steps=[
        ("branch", {"condition": RED, "then": 3, "else": "next"}),
        ("task", {"title": "Nurture"}),
        ("task", {"title": "Escalate"}),
    ])  # fmt: skip
    red, green = _account("Redco", "red"), _account("Greenco", "green")
    at_risk, healthy = _enrol(playbook, red), _enrol(playbook, green)
    assert sorted(Task.objects.filter(account=red).values_list("title", flat=True)) == ["Escalate"]
    assert sorted(Task.objects.filter(account=green).values_list("title", flat=True)) == ["Escalate", "Nurture"]
    assert _path(at_risk) == [(1, "then"), (3, "")]
    assert _path(healthy) == [(1, "else"), (2, ""), (3, "")]
    assert EnrolmentStepRun.objects.get(enrolment=at_risk, order=1).next_order == 3
    assert {at_risk.status, healthy.status} == {"completed"}


def test_a_branch_can_stop_on_either_exit_with_its_reason():
    playbook = playbooks.playbook_save(key="stops", name="Stops", steps=[
        ("branch", {"condition": RED, "then": "next", "else": "stop", "reason": "Healthy"}),
        ("task", {"title": "Rescue"}),
    ])  # fmt: skip
    healthy, at_risk = _enrol(playbook, _account("Fine", "green")), _enrol(playbook, _account("Bad", "red"))
    assert (healthy.status, healthy.stop_reason) == ("stopped", "Healthy")
    assert EnrolmentStepRun.objects.get(enrolment=healthy).detail == "Condition did not hold: stopped"
    assert at_risk.status == "completed" and Task.objects.get().account_id == at_risk.account_id


def test_an_old_branch_config_keeps_its_meaning():
    assert playbooks.branch_target({"condition": RED}, "then") == "stop"
    assert playbooks.branch_target({"condition": RED, "then": ""}, "then") == "stop"
    assert playbooks.branch_target({"condition": RED}, "else") == "next"
    playbook = playbooks.playbook_save(key="old", name="Old", steps=[
        ("branch", {"condition": RED, "reason": "Red"}), ("task", {"title": "Carry on"})])  # fmt: skip
    assert playbook.steps.get(order=1).config == {"condition": RED, "reason": "Red"}  # saved as it was given
    stopped, going = _enrol(playbook, _account("Old red", "red")), _enrol(playbook, _account("Old green"))
    assert (stopped.status, stopped.stop_reason) == ("stopped", "Red")
    assert going.status == "completed" and _path(going) == [(1, "else"), (2, "")]


@pytest.fixture
def follow_up():
    """Call, then wait until the call is done (at most 5 days), then follow up."""
    return playbooks.playbook_save(key="follow", name="Follow up", steps=[
        ("task", {"title": "Call", "due_in_days": 2}),
        ("wait", {"days": 5, "until": {"type": "task_outcome", "outcome": "completed"}}),
        ("task", {"title": "Follow up"}),
    ])  # fmt: skip


def test_a_wait_until_moves_on_when_its_condition_holds_or_after_its_days(follow_up):
    quick, slow = _enrol(follow_up, _account("Quick")), _enrol(follow_up, _account("Slow"))
    assert quick.step == 2 and quick.wait_deadline == T0 + dt.timedelta(days=5)
    assert quick.next_run_at == T0 + playbooks.UNTIL_RECHECK  # checked again by the periodic advance
    assert _advance(T0 + dt.timedelta(hours=1)) == 2  # checked: neither call is done
    assert not Task.objects.filter(title="Follow up").exists()
    Task.objects.filter(account=quick.account, title="Call").update(status="done")
    _advance(T0 + dt.timedelta(hours=2))
    quick.refresh_from_db(), slow.refresh_from_db()
    assert quick.status == "completed" and slow.status == "active" and slow.step == 2
    assert Task.objects.filter(title="Follow up").get().account_id == quick.account_id
    assert _path(quick) == [(1, ""), (2, "condition"), (3, "")]
    _advance(T0 + dt.timedelta(days=4, hours=23))
    assert Task.objects.filter(title="Follow up").count() == 1
    _advance(T0 + dt.timedelta(days=5))
    slow.refresh_from_db()
    assert slow.status == "completed" and slow.wait_deadline is None
    assert _path(slow) == [(1, ""), (2, "timeout"), (3, "")]
    wait = EnrolmentStepRun.objects.get(enrolment=slow, order=2)
    assert "Waited 5 days without the condition" in wait.detail and wait.next_order == 3


def test_the_task_outcome_conditions(follow_up):
    enrolment = _enrol(follow_up, _account("Late"))
    run = EnrolmentStepRun.objects.get(enrolment=enrolment, order=1)
    assert run.task.title == "Call"

    def holds(outcome: str, at: dt.datetime) -> bool:
        tree = {"type": "task_outcome", "outcome": outcome, "step": 1}
        rows, _ = conditions.matching(tree, now=at, playbook_id=follow_up.pk)
        return enrolment.account_id in {row["pk"] for row in rows}

    assert holds("not_completed", T0) and not holds("completed", T0) and not holds("overdue", T0)
    assert holds("overdue", T0 + dt.timedelta(days=3))
    Task.objects.filter(pk=run.task_id).update(status="done")
    assert holds("completed", T0) and not holds("not_completed", T0)


def test_a_loop_through_a_wait_runs_its_steps_again_until_the_email_is_opened():
    EmailTemplateFactory(key="nudge", subject="Hello {{ account.name }}")
    playbook = playbooks.playbook_save(key="nudge", name="Nudge", steps=[
        ("email", {"template": "nudge"}),
        ("wait", {"days": 1}),
        ("branch", {"condition": {"type": "email_opened"}, "then": "stop", "else": 1, "reason": "Opened"}),
    ])  # fmt: skip
    enrolment = _enrol(playbook, _account("Quiet"))
    assert len(mail.outbox) == 1
    _advance(T0 + dt.timedelta(days=1))  # not opened: back to step 1, a second email (its own key), waiting again
    keys = sorted(EmailMessage.objects.values_list("dedupe_key", flat=True))
    assert keys == [f"enrolment:{enrolment.pk}:1", f"enrolment:{enrolment.pk}:1:2"]
    EmailMessage.objects.filter(dedupe_key=keys[1]).update(opened_at=T0 + dt.timedelta(days=1, hours=2))
    _advance(T0 + dt.timedelta(days=2))
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.stop_reason) == ("stopped", "Opened") and EmailMessage.objects.count() == 2
    assert _path(enrolment) == [(1, ""), (2, ""), (3, "else"), (1, ""), (2, ""), (3, "then")]
    assert list(EnrolmentStepRun.objects.filter(enrolment=enrolment, order=1).values_list("visit", flat=True)) == [
        1, 2]  # fmt: skip


def test_the_email_clicked_condition_reads_the_enrolments_own_emails():
    EmailTemplateFactory(key="offer", subject="Offer")
    playbook = playbooks.playbook_save(key="offer", name="Offer", steps=[
        ("email", {"template": "offer"}), ("wait", {"days": 2}),
        ("branch", {"condition": {"type": "email_clicked", "step": 1}, "then": 5, "else": "next"}),
        ("task", {"title": "No click: call"}), ("task", {"title": "Clicked: demo"}),
    ])  # fmt: skip
    clicker, other = _enrol(playbook, _account("Clicker")), _enrol(playbook, _account("Other"))
    EmailMessage.objects.filter(account=clicker.account).update(clicked_at=T0 + dt.timedelta(hours=3))
    _advance(T0 + dt.timedelta(days=2))
    assert list(Task.objects.filter(account=clicker.account).values_list("title", flat=True)) == ["Clicked: demo"]
    assert sorted(Task.objects.filter(account=other.account).values_list("title", flat=True)) == [
        "Clicked: demo", "No click: call"]  # fmt: skip


@pytest.mark.parametrize(
    ("steps", "step", "field", "message"),
    [
        ([("branch", {"condition": RED, "then": 7})], 1, "then", "'then' goes to 7: give a step number from 1 to 1"),
        ([("task", {"title": "A"}), ("branch", {"condition": RED, "else": 2})], 2, "else", "routes the step to itself"),
        ([("branch", {"condition": RED, "then": "later"}), ("task", {"title": "A"})], 1, "then", "next or stop"),
        (
            [("task", {"title": "A"}), ("branch", {"condition": RED, "then": 1})],
            2,
            "then",
            "loops back without a wait (steps 1 → 2 → 1)",
        ),
        ([("wait", {"days": 2, "until": {"type": "nope"}})], 1, "until", "Unknown condition type"),
        ([("wait", {"days": 2, "until": {"type": "task_outcome", "outcome": "late"}})], 1, "until", "'outcome'"),
    ],
)
def test_routes_and_conditions_are_validated_naming_the_step(steps, step, field, message):
    with pytest.raises(playbooks.PlaybookInvalid, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
        playbooks.playbook_save(key="bad", name="Bad", steps=steps)
    assert (exc.value.step, exc.value.field) == (step, field)
    assert f"Step {step} (" in str(exc.value)


def test_a_loop_through_a_wait_is_allowed_and_enrolment_conditions_are_only_for_playbooks():
    playbooks.playbook_save(
        key="loop",
        name="Loop",
        steps=[
            ("task", {"title": "A"}),
            ("wait", {"days": 1}),
            ("branch", {"condition": RED, "then": "stop", "else": 1}),
        ],
    )
    with pytest.raises(conditions.ConditionError, match="only a playbook"):
        conditions.validate({"type": "email_opened"})
    conditions.validate({"type": "email_opened"}, playbook=True)
    conditions.validate(RED)  # the health band is any rule's condition


def test_advancing_a_batch_takes_the_same_queries_whatever_its_size(django_assert_max_num_queries):
    EmailTemplateFactory(key="hi", subject="Hi")
    playbook = playbooks.playbook_save(key="batch", name="Batch", steps=[
        ("email", {"template": "hi"}),
        ("wait", {"days": 3, "until": {"type": "email_opened"}}),
        ("branch", {"condition": RED, "then": 5, "else": "next"}),
        ("task", {"title": "Green"}),
        ("task", {"title": "Red"}),
    ])  # fmt: skip

    def prepare(n: int, prefix: str) -> list:
        accounts = [_account(f"{prefix}{i}", "red" if i % 2 else "green") for i in range(n)]
        with time_machine.travel(T0, tick=False):
            playbooks.playbook_enrol_many(playbook=playbook, accounts=accounts, sources=["t"] * n)
        EmailMessage.objects.filter(account__in=accounts[: n // 2]).update(opened_at=T0)  # half opened it
        return accounts

    at = T0 + dt.timedelta(hours=1)
    few = prepare(4, "few")
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as queries:
        assert playbooks.enrolments_advance_due() == 4
    Enrolment.objects.filter(account__in=few).delete()
    prepare(40, "many")
    with time_machine.travel(at, tick=False), django_assert_max_num_queries(len(queries)):
        assert playbooks.enrolments_advance_due() == 40  # the wait's condition, the branch, both task steps
    # Those who opened it moved on: the green ones to step 4 then 5, the red ones straight to step 5.
    assert Task.objects.filter(title="Green").count() == 1 + 10 and Task.objects.filter(title="Red").count() == 2 + 20


def test_the_customer_360_marks_only_the_steps_an_enrolment_ran(client, admin_user):
    playbook = playbooks.playbook_save(key="skip", name="Skip", steps=[
        ("branch", {"condition": RED, "then": 3, "else": "next"}),
        ("task", {"title": "Nurture"}),
        ("wait", {"days": 7}),
        ("task", {"title": "Escalate"}),
    ])  # fmt: skip
    red = _account("Skipco", "red")
    _enrol(playbook, red)
    client.force_login(admin_user)
    html = client.get(f"/automations/accounts/{red.pk}/").content.decode()
    pills = html[html.index("Skip") :]
    classes = [chunk.split('"')[1] for chunk in pills.split("<li class=")[1:5]]
    assert classes == ["done", "", "done", "current"]  # the skipped task is not shown as done; the wait is running
