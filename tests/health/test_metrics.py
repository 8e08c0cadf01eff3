from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

import pytest

from accounts.models import SupportTicket, UsageEvent
from accounts.selectors import next_renewal
from health import conf
from health.metrics import compute_metrics
from health.rollups import rollups_rebuild
from tests.factories import AccountFactory, SubscriptionFactory, SupportTicketFactory, SurveyResponseFactory
from tests.health.factories import CsmSentimentFactory, at, events

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 3, 31)
KEYS = list(conf.get("KEY_EVENTS"))


def _world(seed: int = 7, n: int = 8):
    rng = random.Random(seed)
    accounts = []
    for i in range(n):
        account = AccountFactory()
        SubscriptionFactory(
            account=account,
            start_date=dt.date(2025, 1, 1) + dt.timedelta(days=30 * i),
            mrr=Decimal(50 + 25 * i),
            quantity=1 + i,
        )
        for offset in range(0, 75):
            if rng.random() < 0.15 + 0.08 * i:
                kinds = [rng.choice(["login", *KEYS]) for _ in range(rng.randint(1, 4))]
                events(account, AS_OF - dt.timedelta(days=offset), kinds, user=f"u{rng.randint(1, 1 + i)}")
        for _ in range(rng.randint(0, 3)):
            opened = at(AS_OF - dt.timedelta(days=rng.randint(0, 50)))
            resolved = opened + dt.timedelta(days=rng.randint(1, 9)) if rng.random() < 0.5 else None
            SupportTicketFactory(
                account=account, opened_at=opened, resolved_at=resolved, status="resolved" if resolved else "open"
            )
        if i % 3:
            SurveyResponseFactory(
                account=account, score=rng.randint(0, 10), responded_at=at(AS_OF - dt.timedelta(days=9))
            )
            SurveyResponseFactory(
                account=account, score=rng.randint(0, 10), responded_at=at(AS_OF - dt.timedelta(days=2))
            )
        accounts.append(account)
    rollups_rebuild()
    return accounts


def _reference(account, as_of: dt.date) -> dict:
    """A slow, obvious per-account computation straight from the raw rows."""
    end = at(as_of + dt.timedelta(days=1), 0)
    evs = [e for e in UsageEvent.objects.filter(account=account) if e.occurred_at < end]
    min_key = conf.get("MEANINGFUL_MIN_KEY_EVENTS")
    per_user_day: dict = {}
    for e in evs:
        if e.event_type in KEYS:
            key = (e.occurred_at.date(), e.user_id)
            per_user_day[key] = per_user_day.get(key, 0) + 1
    meaningful_days = {d for (d, _u), n in per_user_day.items() if n >= min_key}
    in30 = [e for e in evs if e.occurred_at >= at(as_of - dt.timedelta(days=29), 0)]
    tickets = [t for t in SupportTicket.objects.filter(account=account) if t.opened_at < end]
    open_t = [t for t in tickets if (t.resolved_at and t.resolved_at >= end) or (t.resolved_at is None and t.is_open)]
    last = max(meaningful_days, default=None)
    start = min(s.start_date for s in account.subscriptions.all())
    nps = account.survey_responses.filter(responded_at__lt=end).order_by("-responded_at").first()
    return {
        "active_days_7": sum(1 for d in meaningful_days if (as_of - d).days < 7),
        "active_days_30": sum(1 for d in meaningful_days if (as_of - d).days < 30),
        "events_30": len(in30),
        "active_users_30": len({e.user_id for e in in30}),
        "feature_breadth": len({e.event_type for e in in30 if e.event_type in KEYS}),
        "tickets_30d": sum(1 for t in tickets if t.opened_at >= at(as_of - dt.timedelta(days=29), 0)),
        "open_tickets": len(open_t),
        "days_since_meaningful": (as_of - (last or start)).days,
        "nps": nps.score if nps else None,
        "seat_depth": len({e.user_id for e in in30}) / sum(s.quantity for s in account.subscriptions.all()),
    }


def test_set_based_metrics_equal_a_per_account_reference():
    accounts = _world()
    frame = compute_metrics(as_of=AS_OF)
    assert set(frame.index) == {a.pk for a in accounts}
    for account in accounts:
        expected = _reference(account, AS_OF)
        row = frame.loc[account.pk]
        for key, value in expected.items():
            got = row[key]
            if value is None:
                assert got is None or math.isnan(got), (account.pk, key)
            else:
                assert got == pytest.approx(value), (account.pk, key, got, value)


def test_metrics_never_use_data_after_the_as_of_day():
    accounts = _world(seed=3, n=4)
    before = compute_metrics(as_of=AS_OF - dt.timedelta(days=20))
    for account in accounts:  # the future: heavy usage, tickets, a promoter, a sentiment
        for offset in range(0, 20):
            events(account, AS_OF - dt.timedelta(days=offset), KEYS, user="future")
        SupportTicketFactory(account=account, opened_at=at(AS_OF - dt.timedelta(days=3)))
        SurveyResponseFactory(account=account, score=10, responded_at=at(AS_OF - dt.timedelta(days=5)))
        CsmSentimentFactory(account=account, rating=5)
    rollups_rebuild()
    after = compute_metrics(as_of=AS_OF - dt.timedelta(days=20))
    assert before.drop(columns=["custom_attributes"]).equals(after.drop(columns=["custom_attributes"]))


def test_account_without_events_gets_zero_usage_and_days_since_start():
    account = AccountFactory()
    SubscriptionFactory(account=account, start_date=AS_OF - dt.timedelta(days=40), quantity=0)
    row = compute_metrics(as_of=AS_OF).loc[account.pk]
    assert (row.active_days_30, row.events_30, row.feature_breadth) == (0, 0, 0)
    assert row.days_since_meaningful == 40 and row.tenure_days == 40
    assert math.isnan(row.seat_depth) and math.isnan(row.usage_trend)


def test_churned_accounts_are_not_scored_and_trials_are():
    gone = AccountFactory()
    SubscriptionFactory(account=gone, start_date=dt.date(2025, 1, 1), end_date=dt.date(2026, 1, 1))
    trial = AccountFactory(status="onboarding", created_at=at(AS_OF - dt.timedelta(days=3)))
    AccountFactory(status="onboarding")  # created after the day
    assert list(compute_metrics(as_of=AS_OF).index) == [trial.pk]


def test_silent_churn_flag_needs_two_quarters_without_expansion_or_new_features():
    quiet, adopting, expanding = AccountFactory(), AccountFactory(), AccountFactory()
    for account in (quiet, adopting, expanding):
        SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 1))
        events(account, dt.date(2025, 2, 1), ["campaign_sent"])
    SubscriptionFactory(account=quiet, start_date=dt.date(2025, 12, 1))
    SubscriptionFactory(account=adopting, start_date=dt.date(2025, 12, 1))
    SubscriptionFactory(account=expanding, start_date=dt.date(2025, 12, 1), mrr=Decimal("300"))
    events(adopting, AS_OF - dt.timedelta(days=10), ["automation_created"])
    rollups_rebuild()
    frame = compute_metrics(as_of=AS_OF)
    assert frame.loc[quiet.pk, "silent_churn"]
    assert not frame.loc[adopting.pk, "silent_churn"]
    assert not frame.loc[expanding.pk, "silent_churn"]


def test_sentiment_counts_until_it_expires():
    account = AccountFactory()
    SubscriptionFactory(account=account)
    CsmSentimentFactory(account=account, rating=4, expires_on=AS_OF + dt.timedelta(days=1), created_at=at(AS_OF))
    assert compute_metrics(as_of=AS_OF).loc[account.pk, "csm_sentiment"] == 4
    assert math.isnan(compute_metrics(as_of=AS_OF + dt.timedelta(days=1)).loc[account.pk, "csm_sentiment"])


def test_contract_terms_renewal_days_and_mrr_change_without_future_end_dates():
    annual, monthly = AccountFactory(), AccountFactory()
    SubscriptionFactory(account=annual, start_date=AS_OF - dt.timedelta(days=300), billing_period=12, mrr=Decimal(80))
    SubscriptionFactory(
        account=monthly, start_date=AS_OF - dt.timedelta(days=200), end_date=AS_OF - dt.timedelta(days=50)
    )
    # The next row ends in the future (it will churn): that end date must not change anything as of today.
    SubscriptionFactory(
        account=monthly,
        start_date=AS_OF - dt.timedelta(days=50),
        end_date=AS_OF + dt.timedelta(days=3),
        mrr=Decimal(50),
    )
    frame = compute_metrics(as_of=AS_OF)
    assert frame.loc[annual.pk, "billing_period"] == 12
    assert frame.loc[annual.pk, "days_to_renewal"] == 365 - 300
    # Calendar-month anniversaries of the first start, the same rule as the renewal date pages show.
    first = AS_OF - dt.timedelta(days=200)
    assert (
        frame.loc[monthly.pk, "days_to_renewal"]
        == (next_renewal(first_start=first, billing_period=1, day=AS_OF) - AS_OF).days
    )
    assert frame.loc[monthly.pk, "mrr_change_90d"] == pytest.approx(-0.5)
    assert frame.loc[annual.pk, "mrr_change_90d"] == 0
