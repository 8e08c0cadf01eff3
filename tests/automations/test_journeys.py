"""Journeys and onboarding: milestones reached by events, properties, seats of use and payment; missed; funnel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account
from automations import journeys, rules, selectors
from automations.models import Journey, Milestone, MilestoneProgress
from tests.factories import AccountFactory, SubscriptionFactory, UsageEventFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def d(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def onboarding():
    j = Journey.objects.create(key="onboarding", name="Onboarding", onboarding=True)
    Milestone.objects.create(journey=j, key="setup", name="Account setup", order=1, due_days=7,
                             condition={"type": "event", "event_type": "list_imported"})  # fmt: skip
    Milestone.objects.create(journey=j, key="first-value", name="First campaign", order=2, due_days=14,
                             first_value=True, stage="adopted",
                             condition={"type": "event", "event_type": "campaign_sent"})  # fmt: skip
    Milestone.objects.create(journey=j, key="100-subscribers", name="100 subscribers", order=3, due_days=30,
                             condition={"type": "event", "event_type": "list_imported", "property": "rows",
                                        "at_least": 100})  # fmt: skip
    Milestone.objects.create(journey=j, key="paid", name="Paid", order=4, condition={"type": "paid"})
    Milestone.objects.create(journey=j, key="kickoff", name="Kick-off call", order=5, condition={"type": "manual"})
    return j


def test_milestones_are_reached_by_their_conditions_with_the_time_reached(onboarding):
    fast = AccountFactory(created_at=NOW - d(20), lifecycle_stage="onboarding")
    UsageEventFactory(account=fast, event_type="list_imported", occurred_at=NOW - d(19), properties={"rows": 40})
    UsageEventFactory(account=fast, event_type="list_imported", occurred_at=NOW - d(18), properties={"rows": 400})
    UsageEventFactory(account=fast, event_type="campaign_sent", occurred_at=NOW - d(17))
    SubscriptionFactory(account=fast, start_date=(NOW - d(15)).date(), mrr=Decimal("50"))
    stuck = AccountFactory(created_at=NOW - d(20), lifecycle_stage="onboarding")
    AccountFactory(created_at=NOW - d(400))  # too old for an onboarding template

    result = journeys.journeys_refresh(now=NOW)
    assert result["applied"] == 10
    progress = {p.milestone.key: p for p in MilestoneProgress.objects.filter(account=fast).select_related("milestone")}
    assert progress["setup"].reached_at == NOW - d(19)
    assert progress["100-subscribers"].reached_at == NOW - d(18)
    assert progress["first-value"].reached_at == NOW - d(17)
    assert progress["paid"].reached_at.date() == (NOW - d(15)).date()
    assert progress["kickoff"].reached_at is None and progress["kickoff"].missed_at is None
    fast.refresh_from_db()
    assert fast.lifecycle_stage == "adopted"  # automatic stage transition on first value
    missed = set(MilestoneProgress.objects.filter(account=stuck, missed_at__isnull=False).values_list(
        "milestone__key", flat=True))  # fmt: skip
    assert missed == {"setup", "first-value"}  # 100-subscribers is due on day 30


def test_journey_apply_is_idempotent(onboarding):
    AccountFactory(created_at=NOW - d(3))
    assert journeys.journey_apply(journey=onboarding, now=NOW) == 5
    assert journeys.journey_apply(journey=onboarding, now=NOW) == 0


def test_manual_milestone(onboarding):
    account = AccountFactory(created_at=NOW - d(3))
    journeys.journey_apply(journey=onboarding, now=NOW)
    progress = MilestoneProgress.objects.get(account=account, milestone__key="kickoff")
    user = UserFactory()
    journeys.milestone_reach(progress=progress, actor=user)
    progress.refresh_from_db()
    assert progress.reached_at and progress.reached_manually_by == user


def test_missed_milestone_fires_a_rule(onboarding):
    owner = UserFactory()
    account = AccountFactory(created_at=NOW - d(10), owner=owner)
    journeys.journeys_refresh(now=NOW)
    rules.rule_save(key="missed", name="Milestone missed", enabled=True,
                    conditions_tree={"type": "milestone_missed", "milestone": "setup"},
                    actions_list=[{"type": "create_task", "title": "Share the onboarding checklist"}])  # fmt: skip
    rules.rules_cycle()
    assert account.tasks.get().title == "Share the onboarding checklist"


def test_funnel_shares_medians_stall_and_time_to_first_value(onboarding):
    for i in range(4):
        account = AccountFactory(created_at=NOW - d(20), segment="smb")
        if i < 3:
            UsageEventFactory(account=account, event_type="list_imported", occurred_at=NOW - d(20 - (i + 1)))
        if i < 1:
            UsageEventFactory(account=account, event_type="campaign_sent", occurred_at=NOW - d(16))
    AccountFactory(created_at=NOW - d(20), segment="enterprise")
    journeys.journeys_refresh(now=NOW)
    funnel = selectors.journey_funnel(journey=onboarding, segment="smb")
    assert funnel["accounts"] == 4
    setup, first, *_ = funnel["steps"]
    assert (setup["reached"], setup["share"], setup["median_days"]) == (3, 0.75, pytest.approx(2.0))
    assert (first["reached"], first["share"], first["missed"]) == (1, 0.25, 3)
    assert funnel["stall"]["milestone"].key == "first-value"
    assert funnel["time_to_first_value"] == pytest.approx(4.0)
    cohort = f"{(NOW - d(20)):%Y-%m}"
    assert selectors.journey_cohorts(journey=onboarding) == [cohort]
    assert selectors.journey_funnel(journey=onboarding, cohort=cohort)["accounts"] == 5


def test_stages_only_move_forward_and_never_for_at_risk_or_churned(onboarding):
    accounts = {
        stage: AccountFactory(created_at=NOW - d(20), lifecycle_stage=stage)
        for stage in ("renewal", "at_risk", "trial")
    }
    for account in accounts.values():
        UsageEventFactory(account=account, event_type="campaign_sent", occurred_at=NOW - d(5))
    journeys.journeys_refresh(now=NOW)
    stages = {k: Account.objects.get(pk=a.pk).lifecycle_stage for k, a in accounts.items()}
    assert stages == {"renewal": "renewal", "at_risk": "at_risk", "trial": "adopted"}
