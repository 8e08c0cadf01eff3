"""Every rule condition, against accounts that match and accounts that do not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from automations import conditions
from automations.models import Journey, Milestone, MilestoneProgress
from health.models import AccountMetrics, FeatureFirstUse, HealthProfileVersion, HealthSnapshot
from tests.factories import (
    AccountFactory,
    SubscriptionFactory,
    SupportTicketFactory,
    SurveyResponseFactory,
    TagFactory,
    UsageEventFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _ids(tree: dict) -> set[int]:
    rows, _ = conditions.matching(tree, now=NOW)
    return {r["pk"] for r in rows}


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


def test_inactive_days():
    idle = AccountFactory(last_seen_at=NOW - days(11))
    never = AccountFactory(last_seen_at=None, created_at=NOW - days(30))
    AccountFactory(last_seen_at=NOW - days(2))
    AccountFactory(last_seen_at=None, created_at=NOW - days(1))  # brand new: not inactive yet
    assert _ids({"type": "inactive_days", "days": 10}) == {idle.pk, never.pk}


def test_health_below_and_churn_probability():
    low = AccountFactory(health_score=55, churn_probability=0.8)
    AccountFactory(health_score=70, churn_probability=0.2)
    AccountFactory(health_score=None)
    assert _ids({"type": "health_below", "value": 70}) == {low.pk}
    assert _ids({"type": "churn_probability_at_least", "value": 0.5}) == {low.pk}


def test_health_dropped_compares_with_the_snapshot_z_days_ago():
    version = HealthProfileVersion.objects.first()
    today = timezone.localdate(NOW)
    fell = AccountFactory(health_score=50)
    steady = AccountFactory(health_score=78)
    for account, past in ((fell, 75), (steady, 80)):
        HealthSnapshot.objects.create(account=account, day=today - days(31), version=version, score=past)
    rows, shows = conditions.matching({"type": "health_dropped", "points": 20, "days": 30}, now=NOW)
    rows = list(rows)
    assert [r["pk"] for r in rows] == [fell.pk]
    assert conditions.plain_values(rows[0], shows) == {"Health score": 50, "Health 30 days ago": 75, "Drop": 25}


def test_ticket_open_longer_in_days_and_hours():
    old = AccountFactory()
    SupportTicketFactory(account=old, opened_at=NOW - days(6))
    fresh = AccountFactory()
    SupportTicketFactory(account=fresh, opened_at=NOW - dt.timedelta(hours=50))
    closed = AccountFactory()
    SupportTicketFactory(account=closed, opened_at=NOW - days(9), status="resolved")
    assert _ids({"type": "ticket_open_longer", "days": 5}) == {old.pk}
    assert _ids({"type": "ticket_open_longer", "hours": 48}) == {old.pk, fresh.pk}


def test_tickets_in_days():
    busy = AccountFactory()
    for d in (1, 3, 6):
        SupportTicketFactory(account=busy, opened_at=NOW - days(d))
    calm = AccountFactory()
    for d in (1, 3, 9):
        SupportTicketFactory(account=calm, opened_at=NOW - days(d))
    assert _ids({"type": "tickets_in_days", "count": 3, "days": 7}) == {busy.pk}


def test_nps_uses_the_latest_answer_and_csat_dissatisfied():
    detractor = AccountFactory()
    SurveyResponseFactory(account=detractor, score=9, responded_at=NOW - days(20))
    SurveyResponseFactory(account=detractor, score=5, responded_at=NOW - days(2))
    recovered = AccountFactory()
    SurveyResponseFactory(account=recovered, score=4, responded_at=NOW - days(20))
    SurveyResponseFactory(account=recovered, score=9, responded_at=NOW - days(2))
    unhappy = AccountFactory()
    SurveyResponseFactory(account=unhappy, kind="csat", score=1, responded_at=NOW - days(1))
    assert _ids({"type": "nps_at_most", "value": 6}) == {detractor.pk}
    assert _ids({"type": "csat_at_most", "value": 2}) == {unhappy.pk}


def test_payment_failed():
    failed = AccountFactory(payment_failed_at=NOW - days(2))
    AccountFactory(payment_failed_at=None)
    old = AccountFactory(payment_failed_at=NOW - days(40))
    assert _ids({"type": "payment_failed"}) == {failed.pk, old.pk}
    assert _ids({"type": "payment_failed", "days": 7}) == {failed.pk}


def test_milestone_missed():
    journey = Journey.objects.create(key="onb", name="Onboarding", onboarding=True)
    first_value = Milestone.objects.create(journey=journey, key="first-value", name="First value", due_days=14)
    late = AccountFactory()
    MilestoneProgress.objects.create(account=late, milestone=first_value, started_at=NOW - days(20), missed_at=NOW)
    on_time = AccountFactory()
    MilestoneProgress.objects.create(account=on_time, milestone=first_value, started_at=NOW - days(5))
    assert _ids({"type": "milestone_missed"}) == {late.pk}
    assert _ids({"type": "milestone_missed", "milestone": "other"}) == set()


def test_renewal_within():
    today = timezone.localdate(NOW)
    soon = AccountFactory(renewal_date=today + days(20))
    AccountFactory(renewal_date=today + days(90))
    AccountFactory(renewal_date=today - days(1))
    assert _ids({"type": "renewal_within", "days": 30}) == {soon.pk}


def test_seat_utilisation_uses_the_latest_metrics():
    today = timezone.localdate(NOW)
    full = AccountFactory(seats=10)
    AccountMetrics.objects.create(account=full, day=today - days(10), seat_depth=0.4)
    AccountMetrics.objects.create(account=full, day=today, seat_depth=0.95)
    roomy = AccountFactory(seats=10)
    AccountMetrics.objects.create(account=roomy, day=today, seat_depth=0.5)
    assert _ids({"type": "seat_utilisation_at_least", "percent": 90}) == {full.pk}


def test_no_expansion_days_and_purchase_within():
    today = timezone.localdate(NOW)
    silent = AccountFactory()
    SubscriptionFactory(account=silent, start_date=today - days(200))
    expanded = AccountFactory()
    SubscriptionFactory(account=expanded, start_date=today - days(10))
    adopted = AccountFactory()
    SubscriptionFactory(account=adopted, start_date=today - days(200))
    FeatureFirstUse.objects.create(account=adopted, feature="automation_created", first_day=today - days(5))
    AccountFactory(status="churned")
    assert silent.pk in _ids({"type": "no_expansion_days", "days": 90})
    assert not {expanded.pk, adopted.pk} & _ids({"type": "no_expansion_days", "days": 90})
    assert _ids({"type": "purchase_within", "days": 30}) == {expanded.pk}


def test_event_in_days():
    sent = AccountFactory()
    UsageEventFactory(account=sent, event_type="campaign_sent", occurred_at=NOW - days(1))
    UsageEventFactory(account=AccountFactory(), event_type="login", occurred_at=NOW - days(1))
    assert _ids({"type": "event_in_days", "event_type": "campaign_sent", "days": 7}) == {sent.pk}


def test_filters_segment_status_stage_plan_tag_owner_mrr():
    owner = UserFactory(username="olive")
    vip = TagFactory(name="vip")
    a = AccountFactory(segment="enterprise", status="active", lifecycle_stage="adopted", plan="pro", owner=owner,
                       mrr=Decimal("900"), tags=[vip])  # fmt: skip
    b = AccountFactory(segment="smb", status="at_risk", lifecycle_stage="onboarding", plan="starter", mrr=Decimal("50"))
    assert _ids({"type": "segment", "in": ["enterprise"]}) == {a.pk}
    assert _ids({"type": "status", "in": ["at_risk"]}) == {b.pk}
    assert _ids({"type": "stage", "in": ["onboarding"]}) == {b.pk}
    assert _ids({"type": "plan", "in": "pro"}) == {a.pk}
    assert _ids({"type": "tag", "has": ["vip"]}) == {a.pk}
    assert _ids({"type": "tag", "lacks": ["vip"]}) == {b.pk}
    assert _ids({"type": "owner", "is": "olive"}) == {a.pk}
    assert _ids({"type": "owner", "is": "none"}) == {b.pk}
    assert _ids({"type": "mrr_at_least", "value": 500}) == {a.pk}


def test_and_or_not_groups():
    a = AccountFactory(health_score=50, segment="smb")
    b = AccountFactory(health_score=50, segment="enterprise")
    c = AccountFactory(health_score=90, segment="enterprise")
    low = {"type": "health_below", "value": 70}
    ent = {"type": "segment", "in": ["enterprise"]}
    assert _ids({"all": [low, ent]}) == {b.pk}
    assert _ids({"any": [low, ent]}) == {a.pk, b.pk, c.pk}
    assert _ids({"all": [{"not": ent}, {"any": [low]}]}) == {a.pk}


@pytest.mark.parametrize(
    "tree",
    [
        {"type": "nope"},
        {"type": "health_below"},
        {"type": "health_below", "value": "x"},
        {"all": []},
        {"type": "segment", "in": []},
        {"type": "ticket_open_longer"},
        [],
    ],
)
def test_invalid_trees_are_refused(tree):
    with pytest.raises(conditions.ConditionError):
        conditions.validate(tree)
