"""Playbook step timing with frozen time, branches, holdout assignment and the lift arithmetic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from accounts.models import Account, Task
from automations import impact, playbooks
from automations.models import Enrolment, EnrolmentStepRun, Playbook, PlaybookStep
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.messaging.factories import EmailTemplateFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def playbook():
    EmailTemplateFactory(key="reactivation-1", subject="We miss you at {{ account.name }}")
    pb = Playbook.objects.create(key="inactive-14", name="Inactive 14 days")
    steps = [
        ("email", {"template": "reactivation-1", "to": "contact"}),
        ("wait", {"days": 3}),
        ("branch", {"condition": {"not": {"type": "inactive_days", "days": 3}}, "reason": "Active again"}),
        ("task", {"title": "Call {{ account.name }}", "due_in_days": 2}),
    ]
    for order, (kind, config) in enumerate(steps, start=1):
        PlaybookStep.objects.create(playbook=pb, order=order, kind=kind, config=config)
    return pb


@pytest.fixture
def account():
    owner = UserFactory(username="olive")
    account = AccountFactory(name="Idle Inc", owner=owner, last_seen_at=T0 - dt.timedelta(days=20))
    ContactFactory(account=account, email="idle@idle.example")
    return account


def test_steps_run_in_order_and_wait_the_given_days(playbook, account):
    with time_machine.travel(T0, tick=False):
        enrolment, created = playbooks.playbook_enrol(playbook=playbook, account=account)
        assert created
    enrolment.refresh_from_db()
    assert len(mail.outbox) == 1 and enrolment.step == 3
    assert enrolment.next_run_at == T0 + dt.timedelta(days=3)
    with time_machine.travel(T0 + dt.timedelta(days=2, hours=23), tick=False):
        assert playbooks.enrolments_advance_due() == 0
    assert not Task.objects.exists()
    with time_machine.travel(T0 + dt.timedelta(days=3), tick=False):
        assert playbooks.enrolments_advance_due() == 1
    enrolment.refresh_from_db()
    task = Task.objects.get()
    assert task.title == "Call Idle Inc" and task.source == "playbook"
    assert task.due_date == dt.date(2026, 5, 9)
    assert enrolment.status == "completed"
    assert list(EnrolmentStepRun.objects.values_list("order", flat=True)) == [1, 2, 3, 4]


def test_due_enrolments_advance_together_in_queries_that_do_not_grow_with_them(playbook):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = UserFactory(username="otto")

    def enrol(names: list[str]):
        accounts = [AccountFactory(name=name, owner=owner, last_seen_at=T0 - dt.timedelta(days=20)) for name in names]
        for a in accounts:
            ContactFactory(account=a, email=f"{a.name.lower()}@example.com")
        with time_machine.travel(T0, tick=False):
            playbooks.playbook_enrol_many(playbook=playbook, accounts=accounts, sources=["test"] * len(accounts))
        return accounts

    def advance(at: dt.datetime) -> int:
        with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as queries:
            playbooks.enrolments_advance_due()
        return len(queries)

    few = enrol([f"Few{i}" for i in range(3)])
    first = advance(T0)
    many = enrol([f"Many{i}" for i in range(30)])
    assert advance(T0) == first  # the email and wait steps for 30 enrolments: the queries of 3
    assert len(mail.outbox) == 33
    returned = many[:10]
    Account.objects.filter(pk__in=[a.pk for a in returned]).update(last_seen_at=T0 + dt.timedelta(days=2))
    advance(T0 + dt.timedelta(days=3))  # the branch stops those who came back; the others get the task
    statuses = dict(Enrolment.objects.values_list("account__name", "status"))
    assert sorted(n for n, s in statuses.items() if s == "stopped") == sorted(a.name for a in returned)
    assert Task.objects.filter(title__startswith="Call ").count() == len(few) + 20
    assert set(EnrolmentStepRun.objects.filter(enrolment__account=few[0]).values_list("order", flat=True)) == {
        1, 2, 3, 4}  # fmt: skip


def test_branch_stops_the_enrolment_when_the_condition_holds(playbook, account):
    with time_machine.travel(T0, tick=False):
        enrolment, _ = playbooks.playbook_enrol(playbook=playbook, account=account)
    account.last_seen_at = T0 + dt.timedelta(days=2)  # came back
    account.save()
    with time_machine.travel(T0 + dt.timedelta(days=3), tick=False):
        playbooks.enrolments_advance_due()
    enrolment.refresh_from_db()
    assert enrolment.status == "stopped" and enrolment.stop_reason == "Active again"
    assert not Task.objects.exists()


def test_enrolment_is_idempotent(playbook, account):
    first, created = playbooks.playbook_enrol(playbook=playbook, account=account)
    again, created_again = playbooks.playbook_enrol(playbook=playbook, account=account)
    assert created and not created_again and first.pk == again.pk
    assert Enrolment.objects.count() == 1


def test_failed_step_is_recorded_and_the_playbook_goes_on(account):
    pb = Playbook.objects.create(key="broken", name="Broken")
    PlaybookStep.objects.create(playbook=pb, order=1, kind="email", config={"template": "missing"})
    PlaybookStep.objects.create(playbook=pb, order=2, kind="task", config={"title": "Still done"})
    enrolment, _ = playbooks.playbook_enrol(playbook=pb, account=account)
    enrolment.refresh_from_db()
    run = EnrolmentStepRun.objects.get(order=1)
    assert not run.ok and "No email template" in run.detail
    assert enrolment.status == "completed" and Task.objects.count() == 1


def test_holdout_assignment_is_stable_and_close_to_the_share():
    pb = Playbook.objects.create(key="h", name="H", holdout_percent=10)
    draws = [playbooks.in_holdout(playbook=pb, account_id=i) for i in range(1, 5001)]
    assert 400 < sum(draws) < 600
    assert draws == [playbooks.in_holdout(playbook=pb, account_id=i) for i in range(1, 5001)]
    pb.holdout_percent = 0
    assert not any(playbooks.in_holdout(playbook=pb, account_id=i) for i in range(1, 500))


def test_held_out_accounts_get_no_steps(account):
    pb = Playbook.objects.create(key="all-held", name="All held", holdout_percent=100)
    PlaybookStep.objects.create(playbook=pb, order=1, kind="task", config={"title": "Never"})
    enrolment, _ = playbooks.playbook_enrol(playbook=pb, account=account)
    assert enrolment.holdout and enrolment.status == "held_out"
    assert playbooks.enrolments_advance_due() == 0 and not Task.objects.exists()


def test_impact_report_compares_enrolled_with_held_out():
    pb = Playbook.objects.create(key="r", name="R")
    for i in range(10):
        holdout = i >= 6
        churned = holdout and i >= 8
        account = AccountFactory(status="churned" if churned else "active", health_score=60 if holdout else 75,
                                 mrr=Decimal("0") if churned else Decimal("110"))  # fmt: skip
        Enrolment.objects.create(playbook=pb, account=account, holdout=holdout,
                                 status="held_out" if holdout else "completed", baseline_health=60,
                                 baseline_mrr=Decimal("100"))  # fmt: skip
    report = playbooks.playbook_impact(playbook=pb)
    assert (report["n_enrolled"], report["n_holdout"]) == (6, 4)
    assert report["retention"]["a"] == 1.0 and report["retention"]["b"] == 0.5
    assert report["retention"]["diff"] == pytest.approx(0.5)
    assert report["health_change"]["diff"] == pytest.approx(15.0)
    assert report["nrr"]["a"] == pytest.approx(1.1) and report["nrr"]["b"] == pytest.approx(0.55)


def test_lift_arithmetic():
    r = impact.proportion_diff(90, 100, 80, 100)
    assert r["diff"] == pytest.approx(0.10)
    se = (0.9 * 0.1 / 100 + 0.8 * 0.2 / 100) ** 0.5
    assert r["low"] == pytest.approx(0.10 - 1.959964 * se, abs=1e-6)
    assert impact.significant(r)
    m = impact.mean_diff([1, 2, 3, 4], [1, 2, 3, 4])
    assert m["diff"] == 0 and not impact.significant(m)
    assert impact.proportion_diff(1, 0, 1, 1)["diff"] is None
    n = impact.ratio_diff([110, 110], [100, 100], [50, 50], [100, 100])
    assert n["diff"] == pytest.approx(0.6) and n["low"] == pytest.approx(0.6) and n["high"] == pytest.approx(0.6)
