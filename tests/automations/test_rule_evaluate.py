"""Phase 1 (`rule_evaluate`): the executions one INSERT … SELECT stores, their matched values, no duplicates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from automations import rules
from automations.models import RuleExecution
from health.models import HealthProfileVersion, HealthSnapshot
from tests.factories import AccountFactory, SupportTicketFactory

pytestmark = pytest.mark.django_db

ACTIONS = [{"type": "webhook", "event": "rule.fired"}]
DROPPED = {"type": "health_dropped", "points": 20, "days": 30}


def _rule(tree: dict, **kw):
    return rules.rule_save(
        key=kw.pop("key", "r"), name="R", conditions_tree=tree, actions_list=ACTIONS, enabled=True, **kw
    )


def _snapshot(account, days_ago: int, score: int | None) -> None:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    HealthSnapshot.objects.create(account=account, day=day, version=HealthProfileVersion.objects.first(), score=score)


def test_execution_stores_every_matched_value_of_a_health_drop():
    fell = AccountFactory(health_score=50)
    _snapshot(fell, 31, 75)
    assert rules.rule_evaluate(rule=_rule(DROPPED)) == 1
    execution = RuleExecution.objects.get()
    assert execution.account == fell and execution.status == "pending"
    assert execution.matched == {"Health score": 50, "Health 30 days ago": 75, "Drop": 25}


def test_health_drop_fires_on_any_snapshot_of_the_window_and_shows_the_latest():
    earlier = AccountFactory(health_score=50)
    _snapshot(earlier, 33, 90)  # dropped 40 against the snapshot three days before `then`
    _snapshot(earlier, 31, 60)  # the latest of the window: dropped only 10
    no_score = AccountFactory(health_score=None)
    _snapshot(no_score, 31, 90)
    steady = AccountFactory(health_score=70)
    _snapshot(steady, 31, 80)
    assert rules.rule_evaluate(rule=_rule(DROPPED)) == 1
    execution = RuleExecution.objects.get()
    assert execution.account == earlier
    assert execution.matched == {"Health score": 50, "Health 30 days ago": 60, "Drop": 10}


def test_execution_stores_the_values_of_every_condition_of_a_group():
    account = AccountFactory(health_score=40, status="active")
    SupportTicketFactory(account=account, opened_at=timezone.now() - dt.timedelta(days=6))
    AccountFactory(health_score=40, status="active")  # no old open ticket
    tree = {"all": [{"type": "health_below", "value": 70}, {"type": "ticket_open_longer", "days": 5},
                    {"type": "status", "in": ["active"]}]}  # fmt: skip
    assert rules.rule_evaluate(rule=_rule(tree)) == 1
    matched = RuleExecution.objects.get().matched
    assert set(matched) == {"Health score", "Oldest open ticket opened", "Status"}
    assert (matched["Health score"], matched["Status"]) == (40, "active")
    assert matched["Oldest open ticket opened"]


def test_an_execution_already_in_the_window_is_skipped_not_an_error(monkeypatch):
    """A rule without cooldown fires once per window: the unique key skips the second insert of the window."""
    account = AccountFactory(health_score=10)
    rule = _rule({"type": "health_below", "value": 70}, cooldown_days=0)
    now = timezone.now().replace(second=0, microsecond=0)
    assert rules.rule_evaluate(rule=rule, now=now) == 1
    assert rules.rule_evaluate(rule=rule, now=now + dt.timedelta(seconds=1)) == 0
    assert RuleExecution.objects.filter(account=account).count() == 1
    rule.refresh_from_db()
    assert rule.last_matched == 0


def test_a_conflict_on_one_account_still_inserts_the_others(monkeypatch):
    first, second = AccountFactory(health_score=10), AccountFactory(health_score=20)
    rule = _rule({"type": "health_below", "value": 70})
    now = timezone.now()
    RuleExecution.objects.create(rule=rule, account=first, window=rules._window(rule, now), created_at=now)
    monkeypatch.setattr(rules, "_eligible", lambda rule, now, ids=None: rules.Account.objects.all())
    assert rules.rule_evaluate(rule=rule, now=now) == 1
    assert set(RuleExecution.objects.values_list("account_id", flat=True)) == {first.pk, second.pk}


def test_deleting_a_task_or_an_account_cleans_up_its_executions_without_database_constraints():
    from tests.factories import TaskFactory

    account = AccountFactory(health_score=10)
    rule = _rule({"type": "health_below", "value": 70})
    rules.rule_evaluate(rule=rule)
    execution = RuleExecution.objects.get()
    execution.task = TaskFactory(account=account)
    execution.save()
    execution.task.delete()
    execution.refresh_from_db()
    assert execution.task_id is None  # on_delete SET_NULL, done by Django
    account.delete()
    assert not RuleExecution.objects.exists()  # on_delete CASCADE, done by Django
