"""The lifecycle facts (lifetimes, band movement, engagement, onboarding) give exactly the live numbers, and the
dashboard's reads use them when they cover the period."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Subscription
from dashboards import services
from dashboards.catalog import KPIS, kpi_value
from dashboards.kpis.kpi_facts import weighted_median
from dashboards.kpis.periods import add_months
from dashboards.models import BandMovementFact, EngagementFact, LifetimeFact, OnboardingFact
from dashboards.params import KpiFilters, KpiQuery
from health.models import AccountMetrics, HealthProfileVersion, HealthSnapshot
from tests.dashboards.conftest import sub
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2024, 4, 10)  # months=12: the facts cover month starts 2023-04-01 … 2024-04-01
LAST = dt.date(2024, 4, 1)
STARTS = [add_months(dt.date(2023, 4, 1), k) for k in range(12)]
FILTERS = [KpiFilters(), KpiFilters(segments=("smb",)), KpiFilters(segments=("enterprise",)), KpiFilters(plan="pro"),
           KpiFilters(segments=("smb",), plan="growth")]  # fmt: skip
LIFECYCLE_KPIS = ["survival", "health-movement", "engagement-frequency", "onboarding-funnel"]


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def lives(db):
    """Accounts with subscriptions, health snapshots, daily metrics and onboarding progress in 2023–24.

    Lifetimes include a reactivation before the last month start (active there: censored), one after it (the
    later subscription is not seen at that end), an add-on, a churn on the end date itself and a first
    subscription before the facts' horizon.
    """
    from automations.models import Journey, Milestone, MilestoneProgress

    version = HealthProfileVersion.objects.first()
    journey = Journey.objects.create(key="onboarding-facts", name="Onboarding", onboarding=True)
    setup, value = (
        Milestone.objects.create(journey=journey, key=key, name=name, order=i, first_value=key == "value")
        for i, (key, name) in enumerate((("setup", "Setup"), ("value", "First value")), 1)
    )
    # fmt: off
    specs = [
        # name, segment, plan, subscriptions, bands on (Jan 1, Feb 15, Apr 1), active days (Jan 31, Mar 31),
        # (days to setup, days to value or "missed")
        ("a", "smb", "growth", [("2023-05-03", "2023-09-03")], ("", "", ""), None, (1, 3)),
        ("b", "smb", "growth", [("2023-05-20", None)], ("green", "yellow", "red"), (12, 4), (2, 3)),
        ("c", "smb", "Pro", [("2023-07-01", "2023-10-01"), ("2023-12-01", None)], ("red", "red", "green"), (0, 30),
         (0, "missed")),
        ("d", "enterprise", "Pro", [("2023-07-15", "2024-04-01")], ("yellow", "green", "green"), (22, 8), (4, 9)),
        ("e", "enterprise", "growth", [("2023-09-01", "2023-11-01"), ("2024-05-01", None)], ("", "red", ""), (7, 7),
         (3, None)),
        ("f", "smb", "growth", [("2023-10-10", None), ("2023-10-10", "2023-11-10")], ("green", "green", "green"),
         (15, 15), (1, 1)),
        ("g", "smb", "Pro", [("2024-01-05", "2024-03-05")], ("", "yellow", "red"), (3, 0), (None, "missed")),
        ("h", "smb", "growth", [("2022-11-01", None)], ("green", "", "yellow"), (30, 29), None),
        ("i", "enterprise", "Pro", [("2024-03-01", None)], ("", "", "green"), (None, 1), (2, None)),
    ]
    # fmt: on
    accounts = {}
    for name, segment, plan, subscriptions, bands, active, onboarding in specs:
        first = dt.date.fromisoformat(subscriptions[0][0])
        account = accounts[name] = AccountFactory(name=name, segment=segment, plan=plan, created_at=_at(first, 9))
        for start, end in subscriptions:
            sub(account, start, end, 100)
        for day, band in zip((dt.date(2024, 1, 1), dt.date(2024, 2, 15), LAST), bands, strict=True):
            score = {"green": 80, "yellow": 55, "red": 20, "": None}[band]
            HealthSnapshot.objects.create(account=account, day=day, version=version, score=score, band=band)
        for day, days in zip((dt.date(2024, 1, 31), dt.date(2024, 3, 31)), active or (None, None), strict=True):
            if days is not None:
                AccountMetrics.objects.create(account=account, day=day, active_days_30=days)
        for milestone, reached in zip((setup, value), onboarding or (), strict=False):
            started = _at(first, 9)
            MilestoneProgress.objects.create(
                account=account, milestone=milestone, started_at=started,
                reached_at=started + dt.timedelta(days=reached, hours=5) if isinstance(reached, int) else None,
                missed_at=started + dt.timedelta(days=14) if reached == "missed" else None,
            )  # fmt: skip
    return accounts


def _compare(name: str, query: KpiQuery) -> dict:
    facts = kpi_value(KPIS[name], query, source="facts")
    live = kpi_value(KPIS[name], query, source="live")
    assert facts == live, (name, query)
    return facts


def test_lifecycle_facts_equal_live_for_periods_to_the_last_month_start(lives):
    run = services.kpi_facts_refresh(today=TODAY, months=12)
    assert run.last_month == LAST
    assert run.lifecycle_rows == sum(m.objects.count() for m in (LifetimeFact, BandMovementFact, EngagementFact,
                                                                OnboardingFact)) > 0  # fmt: skip
    for filters in FILTERS:
        for start in STARTS:
            for name in LIFECYCLE_KPIS:
                _compare(name, KpiQuery(start=start, end=LAST, filters=filters))
    year = _compare("survival", KpiQuery(start=STARTS[0], end=LAST))
    # a … i less h (first subscription before the horizon): c is back (censored), e's return is after the end.
    assert (year["n_accounts"], year["n_churned"], year["n_censored"]) == (8, 4, 4)
    moves = _compare("health-movement", KpiQuery(start=dt.date(2024, 1, 1), end=LAST))
    assert (moves["from_day"], moves["to_day"], moves["n_improved"], moves["n_worsened"]) == (
        dt.date(2024, 1, 1), LAST, 2, 2)  # fmt: skip


def test_engagement_and_onboarding_facts_equal_live_between_any_month_starts(lives):
    services.kpi_facts_refresh(today=TODAY, months=12)
    ends = [*STARTS[1:], LAST]
    for filters in FILTERS:
        for start in STARTS:
            for end in (e for e in ends if e > start):
                for name in ("engagement-frequency", "onboarding-funnel"):
                    _compare(name, KpiQuery(start=start, end=end, filters=filters))
    february = _compare("engagement-frequency", KpiQuery(start=dt.date(2024, 2, 1), end=dt.date(2024, 3, 1)))
    assert february["day"] is None  # the last metrics day before March (Jan 31) is before the period
    (journey,) = _compare("onboarding-funnel", KpiQuery(start=STARTS[0], end=LAST))["journeys"]
    setup, value = journey["steps"]
    # Reached: setup a 1, b 2, c 0, d 4, e 3, f 1, i 2 (i is March 2024) → median of 0 1 1 2 2 3 4 = 2 days.
    assert (journey["n_accounts"], setup["reached"], setup["median_days"]) == (8, 7, 2.0)
    assert (value["reached"], value["missed"], value["median_days"]) == (4, 2, 3.0)  # 1 3 3 9 → 3


def test_readers_use_the_lifecycle_facts_until_the_next_run(lives, django_assert_num_queries):
    services.kpi_facts_refresh(today=TODAY, months=12)
    query = KpiQuery(start=STARTS[0], end=LAST)
    before = {name: kpi_value(KPIS[name], query) for name in LIFECYCLE_KPIS}
    Subscription.objects.filter(account=lives["b"]).update(end_date=dt.date(2023, 8, 1))
    HealthSnapshot.objects.filter(day=LAST).update(band="red", score=10)
    AccountMetrics.objects.update(active_days_30=0)
    lives["b"].milestone_progress.update(reached_at=None)
    assert {name: kpi_value(KPIS[name], query) for name in LIFECYCLE_KPIS} == before
    assert kpi_value(KPIS["survival"], query, source="live")["n_churned"] == before["survival"]["n_churned"] + 1
    with django_assert_num_queries(2):  # the latest run, one aggregate over the lifetime facts
        kpi_value(KPIS["survival"], query)
    with django_assert_num_queries(3):  # the latest run, the days of the movement, one aggregate
        kpi_value(KPIS["health-movement"], query)
    services.kpi_facts_refresh(today=TODAY, months=12)
    assert kpi_value(KPIS["survival"], query)["n_churned"] == before["survival"]["n_churned"] + 1
    # A period that does not end at the run's last month start is answered live.
    earlier = KpiQuery(start=STARTS[0], end=dt.date(2024, 1, 1))
    assert kpi_value(KPIS["survival"], earlier) == kpi_value(KPIS["survival"], earlier, source="live")


def test_periods_without_stored_movement_or_metrics_fall_back_to_live(db):
    services.kpi_facts_refresh(today=TODAY, months=12)
    query = KpiQuery(start=STARTS[6], end=LAST)
    assert kpi_value(KPIS["health-movement"], query)["reasons"]["transitions"] == "No health snapshot in the period."
    assert kpi_value(KPIS["engagement-frequency"], query)["day"] is None
    assert kpi_value(KPIS["onboarding-funnel"], query)["journeys"] == []


@pytest.mark.parametrize(
    ("counts", "median"),
    [([], None), ([(3, 1)], 3.0), ([(1, 1), (4, 1)], 2.5), ([(2, 3), (0, 1)], 2.0), ([(5, 0), (1, 2), (9, 2)], 5.0)],
)
def test_weighted_median_is_the_median_of_the_expanded_values(counts, median):
    assert weighted_median(counts) == median
