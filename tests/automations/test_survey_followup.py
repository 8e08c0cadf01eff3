"""The built-in survey rules leave an answer alone when the win-back routing already gave it a follow-up task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Task
from automations import builtins, conditions, rules
from automations.models import Rule
from tests.factories import AccountFactory, SurveyResponseFactory, TaskFactory, UserFactory
from winback.services.follow_ups import response_route

pytestmark = pytest.mark.django_db

NOW = timezone.now()
FOLLOWUP = {"type": "no_open_followup", "kind": "nps"}


def _ids(tree: dict) -> set[int]:
    rows, _ = conditions.matching(tree, now=NOW)
    return {r["pk"] for r in rows}


def test_no_open_followup_condition():
    followed = AccountFactory()
    SurveyResponseFactory(account=followed, score=3, responded_at=NOW - dt.timedelta(hours=2))
    TaskFactory(account=followed, priority="high", status="open")  # created after the answer
    older_task = AccountFactory()
    TaskFactory(account=older_task, priority="high", status="open", created_at=NOW - dt.timedelta(days=3))
    SurveyResponseFactory(account=older_task, score=3, responded_at=NOW - dt.timedelta(hours=2))
    low_priority = AccountFactory()
    SurveyResponseFactory(account=low_priority, score=3, responded_at=NOW - dt.timedelta(hours=2))
    TaskFactory(account=low_priority, priority="normal", status="open")
    done = AccountFactory()
    SurveyResponseFactory(account=done, score=3, responded_at=NOW - dt.timedelta(hours=2))
    TaskFactory(account=done, priority="high", status="done")
    never_answered = AccountFactory()
    TaskFactory(account=never_answered, priority="high", status="open")
    assert _ids(FOLLOWUP) == {older_task.pk, low_priority.pk, done.pk, never_answered.pk}
    assert _ids({"type": "no_open_followup", "kind": "csat"}) == {a.pk for a in (followed, older_task, low_priority,
                                                                                 done, never_answered)}  # fmt: skip
    with pytest.raises(conditions.ConditionError):
        conditions.validate({"type": "no_open_followup", "kind": "ces"})


def _enable(key: str) -> Rule:
    builtins.builtins_install()
    rule = Rule.objects.get(key=key)
    rules.rule_set_enabled(rule=rule, enabled=True)
    return rule


@pytest.mark.parametrize(("key", "kind", "score"), [("nps-below-7", "nps", 3), ("dissatisfied-survey", "csat", 1)])
def test_the_builtin_rule_does_not_duplicate_the_winback_routing_task(key, kind, score):
    UserFactory(username="lead", role="Manager")
    owner = UserFactory(username="olive", role="CSM")
    routed, unrouted = AccountFactory(owner=owner), AccountFactory(owner=owner)
    response_route(response=SurveyResponseFactory(account=routed, kind=kind, score=score))  # the win-back routing
    SurveyResponseFactory(account=unrouted, kind=kind, score=score)  # e.g. imported, nobody routed it
    rule = _enable(key)
    rules.rule_run_now(rule=rule)
    assert routed.tasks.count() == 1 and routed.tasks.get().priority == "high"  # only the call-back task
    assert set(rule.executions.values_list("account_id", flat=True)) == {unrouted.pk}
    # Once the call-back task is done the rule may follow up again after a new low answer.
    Task.objects.filter(account=routed).update(status="done")
    assert _ids({"type": "no_open_followup", "kind": kind}) >= {routed.pk}


def test_installing_again_upgrades_an_unchanged_builtin_rule_only():
    builtins.builtins_install()
    old = builtins.SUPERSEDED_CONDITIONS["nps-below-7"]
    Rule.objects.filter(key="nps-below-7").update(conditions=old)
    edited = {"all": [{"type": "csat_at_most", "value": 1, "days": 7}]}
    Rule.objects.filter(key="dissatisfied-survey").update(conditions=edited)
    builtins.builtins_install()
    assert {"type": "no_open_followup", "kind": "nps"} in Rule.objects.get(key="nps-below-7").conditions["all"]
    assert Rule.objects.get(key="dissatisfied-survey").conditions == edited  # a manager's edit is kept
