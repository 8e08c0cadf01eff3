"""Time-based conditions fire at the moment their threshold is crossed: each tick evaluates the rules for the
accounts crossing in its window only, never for every account."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Task
from automations import crossings, rules, tasks
from automations.models import Checkpoint, Rule
from tests.factories import AccountFactory, SubscriptionFactory, SupportTicketFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _rule(key: str, tree: dict) -> Rule:
    actions = [{"type": "create_task", "title": f"{key}: {{{{ account.name }}}}"}]
    return rules.rule_save(key=key, name=key, enabled=True, conditions_tree=tree, actions_list=actions)


def _titles() -> set[str]:
    return set(Task.objects.values_list("title", flat=True))


def test_an_account_fires_the_tick_after_its_inactivity_crosses_and_others_are_not_evaluated(_now, monkeypatch):
    _rule("idle", {"type": "inactive_days", "days": 10})
    crossing = AccountFactory(name="Crossing", last_seen_at=NOW - dt.timedelta(days=10) + dt.timedelta(seconds=20))
    AccountFactory(name="Long idle", last_seen_at=NOW - dt.timedelta(days=40))  # crossed a month ago
    AccountFactory(name="Active", last_seen_at=NOW - dt.timedelta(hours=1))
    evaluated = []
    cycle = rules.rules_cycle
    monkeypatch.setattr(rules, "rules_cycle", lambda **kw: evaluated.append(kw["account_ids"]) or cycle(**kw))

    assert crossings.crossings_evaluate()["accounts"] == 0  # not yet: 20 s to go
    _now.shift(dt.timedelta(seconds=15))
    assert crossings.crossings_evaluate()["accounts"] == 0
    _now.shift(dt.timedelta(seconds=15))
    result = crossings.crossings_evaluate()
    assert result["accounts"] == 1 and result["fired"] == 1 and result["window_s"] == 15
    assert evaluated == [[crossing.pk]]  # the long-idle account matches too, but only the full cycle looks at it
    assert _titles() == {"idle: Crossing"}


def test_each_kind_of_clock_finds_the_accounts_crossing_in_the_window():
    since, until = NOW, NOW + dt.timedelta(seconds=30)
    just = dt.timedelta(seconds=10)
    ticket = SupportTicketFactory(opened_at=NOW - dt.timedelta(hours=4) + just, status="open").account
    SupportTicketFactory(opened_at=NOW - dt.timedelta(hours=4) + just, status="solved")  # closed: never old
    expiring = SupportTicketFactory(opened_at=NOW - dt.timedelta(days=7) + just, status="solved").account
    answer = SurveyResponseFactory(kind="nps", score=2, responded_at=NOW - dt.timedelta(days=90) + just).account
    failed = AccountFactory(payment_failed_at=NOW - dt.timedelta(days=3) + just)
    never_seen = AccountFactory(last_seen_at=None, created_at=NOW - dt.timedelta(days=10) + just)
    cases = {
        "ticket_open_longer": ({"type": "ticket_open_longer", "hours": 4}, {ticket.pk}),
        "tickets_in_days": ({"type": "tickets_in_days", "count": 3, "days": 7}, {expiring.pk}),
        "nps_at_most": ({"type": "nps_at_most", "value": 6}, {answer.pk}),
        "payment_failed": ({"type": "payment_failed", "days": 3}, {failed.pk}),
        "inactive_days": ({"type": "inactive_days", "days": 10}, {never_seen.pk}),
    }
    for kind, (tree, expected) in cases.items():
        rule = Rule(key=kind, conditions={"not": tree})  # leaves under "not" cross too
        assert crossings.crossing_accounts(since=since, until=until, rules=[rule]) == expected, kind


def test_date_conditions_cross_at_midnight_only():
    today = timezone.localdate(NOW)
    renewing = AccountFactory(renewal_date=today + dt.timedelta(days=31))
    quiet = AccountFactory()
    SubscriptionFactory(account=quiet, start_date=today - dt.timedelta(days=59))
    renewal = Rule(key="renewal", conditions={"type": "renewal_within", "days": 30})
    silent = Rule(key="silent", conditions={"type": "no_expansion_days", "days": 60})
    midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())
    before, after = midnight - dt.timedelta(seconds=10), midnight + dt.timedelta(seconds=5)
    assert crossings.crossing_accounts(since=NOW, until=before, rules=[renewal, silent]) == set()
    assert crossings.crossing_accounts(since=before, until=after, rules=[renewal]) == {renewing.pk}
    assert crossings.crossing_accounts(since=before, until=after, rules=[silent]) == {quiet.pk}


def test_a_stopped_worker_s_window_is_taken_up_where_it_was_left(_now):
    _rule("idle", {"type": "inactive_days", "days": 10})
    AccountFactory(name="Crossed during the outage", last_seen_at=NOW - dt.timedelta(days=10) + dt.timedelta(minutes=5))
    crossings.crossings_evaluate()
    _now.shift(dt.timedelta(minutes=20))  # no tick for 20 minutes
    result = crossings.crossings_evaluate()
    assert result["window_s"] == 20 * 60 and result["fired"] == 1
    assert Checkpoint.objects.get(name=crossings.CHECKPOINT).at == timezone.now()


def test_a_failed_tick_leaves_its_window_to_the_next(_now, monkeypatch):
    _rule("idle", {"type": "inactive_days", "days": 10})
    AccountFactory(name="Crossing", last_seen_at=NOW - dt.timedelta(days=10) + dt.timedelta(seconds=5))
    crossings.crossings_evaluate()
    _now.shift(dt.timedelta(seconds=15))

    def crash(**kwargs):
        raise RuntimeError("worker lost mid-cycle")

    monkeypatch.setattr(rules, "rules_cycle", crash)
    with pytest.raises(RuntimeError):
        crossings.crossings_evaluate()
    monkeypatch.undo()
    _now.shift(dt.timedelta(seconds=15))
    assert crossings.crossings_evaluate()["fired"] == 1


def test_beat_ticks_every_15_seconds_and_the_task_runs_a_tick():
    from churnapp.schedule import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["automations-evaluate-crossings"]
    assert entry["task"] == "automations.tasks.evaluate_crossings"
    assert entry["schedule"] == dt.timedelta(seconds=15)
    assert tasks.evaluate_crossings.delay().get()["accounts"] == 0
