"""The precomputed KPI facts give exactly the live numbers, and the readers use them when they cover a request."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, Subscription, SurveyResponse, UsageEvent
from dashboards import selectors, services
from dashboards.catalog import KPIS, kpi_series, kpi_value
from dashboards.kpis.periods import Window, add_months
from dashboards.models import CohortFact, FactRunStatus, KpiFactRun, PeriodFact
from dashboards.params import KpiFilters, KpiQuery
from tests.dashboards.conftest import at
from tests.factories import SurveyResponseFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2024, 4, 10)  # facts cover month starts 2023-04-01 … 2024-04-01 with months=12
FILTERS = [KpiFilters(), KpiFilters(segments=("smb",)), KpiFilters(segments=("enterprise",)), KpiFilters(plan="PRO"),
           KpiFilters(segments=("smb", "enterprise"), plan="growth")]  # fmt: skip
PERIOD_KPIS = ["churn-rate", "mrr-churn", "net-retention", "mrr-movements", "arpa", "nps", "csat", "clv"]


@pytest.fixture
def surveys(activity):
    for name, when, kind, score in [
        ("A", "2024-01-01T00:00", "nps", 9),
        ("C", "2024-01-31T23:59", "nps", 3),
        ("Up", "2024-02-01T00:00", "nps", 10),
        ("Down", "2023-12-15T08:00", "csat", 5),
        ("B", "2024-03-03T08:00", "csat", 2),
    ]:
        SurveyResponseFactory(account=activity[name], kind=kind, score=score, responded_at=at(when))
    return activity


def _compare(name: str, query: KpiQuery):
    facts = kpi_value(KPIS[name], query, source="facts")
    live = kpi_value(KPIS[name], query, source="live")
    assert facts == live, (name, query)


def test_facts_equal_live_for_every_pair_of_month_starts(surveys):
    run = services.kpi_facts_refresh(today=TODAY, months=12)
    assert run.status == FactRunStatus.COMPLETE
    assert (run.first_month, run.last_month) == (dt.date(2023, 4, 1), dt.date(2024, 4, 1))
    assert run.period_rows == PeriodFact.objects.count() > 0
    starts = [add_months(run.first_month, k) for k in range(13)]
    for filters in FILTERS:
        for start, end in itertools.combinations(starts[6:], 2):  # the months with data, to keep the test quick
            for name in PERIOD_KPIS:
                _compare(name, KpiQuery(start=start, end=end, filters=filters))
            for window in ("1m", "30d"):
                _compare("activity-churn", KpiQuery(start=start, end=end, filters=filters, window=Window.parse(window)))


def test_facts_equal_live_for_series_and_cohorts(surveys):
    services.kpi_facts_refresh(today=TODAY, months=12)
    query = KpiQuery(start=dt.date(2023, 4, 1), end=dt.date(2024, 4, 1))
    for name in PERIOD_KPIS:
        assert kpi_series(KPIS[name], query, source="facts") == kpi_series(KPIS[name], query, source="live")
    for end in (dt.date(2024, 2, 1), dt.date(2024, 3, 15), dt.date(2024, 4, 1)):
        for filters in FILTERS:
            _compare("cohort-retention", KpiQuery(start=dt.date(2023, 4, 1), end=end, filters=filters))
    assert CohortFact.objects.exists()


def test_snapshot_facts_equal_live_for_health_bands_and_workload(surveys, csm, teammate):
    from tests.factories import TaskFactory

    Account.objects.filter(name__in=["A", "C"]).update(health_band="green")
    Account.objects.filter(name="Down").update(health_band="red", status="at_risk")
    Account.objects.filter(name="B").update(status="churned", health_band="red")
    Account.objects.filter(name="Up").update(mrr=Decimal("150.10"))
    TaskFactory(account=surveys["A"], assignee=teammate, due_date=dt.date(2000, 1, 1))
    services.kpi_facts_refresh(today=TODAY, months=3)
    filters = [*FILTERS, KpiFilters(owner=str(csm.pk)), KpiFilters(owner="none"), KpiFilters(owner=teammate.username)]
    for f in filters:
        _compare("health-bands", KpiQuery(start=None, end=None, filters=f))
        _compare("csm-workload", KpiQuery(start=None, end=None, filters=f))
    bands = kpi_value(KPIS["health-bands"], KpiQuery(start=None, end=None), source="facts")["bands"]
    assert [(b["band"], b["n_accounts"]) for b in bands] == [("green", 2), ("yellow", 0), ("red", 1), ("unscored", 7)]


def test_readers_use_the_facts_when_they_cover_the_request(book, django_assert_num_queries):
    services.kpi_facts_refresh(today=TODAY, months=12)
    january = KpiQuery(start=dt.date(2024, 1, 1), end=dt.date(2024, 2, 1))
    # Change the data after the run: the facts answer with the numbers of the run …
    Subscription.objects.filter(account=book["B"]).update(end_date=None)
    assert kpi_value(KPIS["churn-rate"], january)["n_churn"] == 1
    # … until the next run, and the live path sees the change at once.
    assert kpi_value(KPIS["churn-rate"], january, source="live")["n_churn"] == 0
    with django_assert_num_queries(2):  # the latest run, one aggregate over the facts
        kpi_value(KPIS["churn-rate"], january)
    mid_month = KpiQuery(start=dt.date(2024, 1, 15), end=dt.date(2024, 2, 1))
    # Not a month start: live, so B (now open) no longer churns; Brief (ends 01-25) does.
    assert kpi_value(KPIS["churn-rate"], mid_month)["n_churn"] == 1
    by_owner = KpiQuery(start=dt.date(2024, 1, 1), end=dt.date(2024, 2, 1), filters=KpiFilters(owner="none"))
    assert kpi_value(KPIS["churn-rate"], by_owner)["n_start"] == 0  # owners are not a fact dimension: live
    services.kpi_facts_refresh(today=TODAY, months=12)
    assert kpi_value(KPIS["churn-rate"], january)["n_churn"] == 0


def test_source_facts_refuses_what_the_facts_do_not_cover(book):
    with pytest.raises(ValueError, match="do not cover"):
        selectors.subscription_sums(periods=[(dt.date(2024, 1, 1), dt.date(2024, 2, 1))], filters=KpiFilters(),
                                    source="facts")  # fmt: skip


def test_refresh_is_idempotent(surveys):
    first = services.kpi_facts_refresh(today=TODAY, months=12)
    rows = sorted(PeriodFact.objects.values_list("start", "end", "segment", "plan", "n_start", "start_mrr", "nps_9"))
    second = services.kpi_facts_refresh(today=TODAY, months=12)
    assert (
        sorted(PeriodFact.objects.values_list("start", "end", "segment", "plan", "n_start", "start_mrr", "nps_9"))
        == rows
    )
    assert second.period_rows == first.period_rows
    assert selectors.latest_run() == second


def test_a_failed_refresh_keeps_the_previous_facts(book, monkeypatch):
    good = services.kpi_facts_refresh(today=TODAY, months=12)
    count = PeriodFact.objects.count()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "cohort_fact_rows", boom)
    with pytest.raises(RuntimeError):
        services.kpi_facts_refresh(today=TODAY, months=12)
    failed = KpiFactRun.objects.order_by("-pk").first()
    assert failed.status == FactRunStatus.FAILED and "disk full" in failed.error
    assert PeriodFact.objects.count() == count
    assert selectors.latest_run() == good


def test_empty_database_builds_empty_facts(db):
    run = services.kpi_facts_refresh(today=TODAY, months=3)
    assert run.status == FactRunStatus.COMPLETE and run.period_rows == 0
    row = kpi_value(KPIS["churn-rate"], KpiQuery(start=dt.date(2024, 1, 1), end=dt.date(2024, 2, 1)))
    assert row["churn_rate"] is None and row["reasons"]["churn_rate"]


def test_refresh_task_runs_the_service(book):
    from dashboards.tasks import refresh_kpi_facts

    result = refresh_kpi_facts.delay().get()
    assert result["status"] == "complete"
    assert selectors.latest_run() is not None


BASE = dt.date(2023, 1, 1)
SEGMENTS = ["smb", "mid_market", "enterprise"]
account_specs = st.lists(
    st.tuples(
        st.sampled_from(SEGMENTS),
        st.sampled_from(["starter", "growth", "Pro"]),
        st.lists(st.tuples(st.integers(0, 450), st.one_of(st.none(), st.integers(1, 300)), st.integers(0, 300)),
                 max_size=3),
        st.lists(st.integers(0, 450 * 24), max_size=4),  # events, hours after BASE
        st.lists(st.tuples(st.integers(0, 450), st.integers(0, 10)), max_size=2),  # NPS responses: day, score
    ),
    min_size=1,
    max_size=6,
)  # fmt: skip


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])  # fmt: skip
@given(specs=account_specs, pair=st.tuples(st.integers(0, 11), st.integers(1, 12)))
def test_facts_equal_live_on_random_books(db, specs, pair):
    start = add_months(dt.date(2023, 4, 1), pair[0])
    end = add_months(start, pair[1])
    with transaction.atomic():
        for i, (segment, plan, subs, events, answers) in enumerate(specs):
            account = Account.objects.create(external_id=f"r{i}", name=f"R{i}", segment=segment, plan=plan)
            for s, n, mrr in subs:
                end_date = None if n is None else BASE + dt.timedelta(days=s + n)
                Subscription.objects.create(account=account, product="p", mrr=Decimal(mrr),
                                            start_date=BASE + dt.timedelta(days=s), end_date=end_date)  # fmt: skip
            for k, hours in enumerate(events):
                UsageEvent.objects.create(account=account, event_type="x", message_id=f"r{i}-{k}",
                                          occurred_at=at("2023-01-01T00:00") + dt.timedelta(hours=hours))  # fmt: skip
            for day, score in answers:
                SurveyResponse.objects.create(account=account, kind="nps", score=score,
                                              responded_at=at("2023-01-01T00:00") + dt.timedelta(days=day))  # fmt: skip
        services.kpi_facts_refresh(today=dt.date(2024, 4, 20), months=12)
        for filters in (KpiFilters(), KpiFilters(segments=("smb",)), KpiFilters(plan="pro")):
            query = KpiQuery(start=start, end=min(end, dt.date(2024, 4, 1)), filters=filters)
            if query.end <= query.start:
                continue
            for name in ("churn-rate", "mrr-movements", "net-retention", "nps", "clv"):
                _compare(name, query)
            _compare("activity-churn", KpiQuery(start=query.start, end=query.end, filters=filters,
                                                window=Window(30, "d")))  # fmt: skip
            _compare("cohort-retention", query)
            if query.end == dt.date(2024, 4, 1):  # lifetimes are stored up to the run's last month start
                _compare("survival", query)
        transaction.set_rollback(True)


def test_beat_refreshes_the_facts_with_a_registered_task():
    from churnapp.celery import app
    from churnapp.schedule import BEAT_SCHEDULE

    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    entry = BEAT_SCHEDULE["dashboards-refresh-kpi-facts"]
    assert entry["task"] in app.tasks
    assert entry["options"]["expires"] > 0
