"""Property tests: the KPI invariants of the issue, and the live queries against a brute-force reading of DESIGN.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, Subscription
from dashboards.catalog import KPIS, kpi_value
from dashboards.kpis import formulas
from dashboards.kpis.metrics import cohort_activity, subscription_metrics, total
from dashboards.kpis.periods import add_months, month_end
from dashboards.params import KpiQuery

BASE = dt.date(2023, 1, 1)
DB_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

accounts_arrays = st.integers(min_value=0, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.integers(0, 10**7), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.integers(0, 10**7), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
    )
)


@given(accounts_arrays)
def test_rates_stay_in_range_and_movements_reconcile(arrays):
    active_s, mrr_s, active_e, mrr_e, before = (np.array(a) for a in arrays)
    sums = total(
        subscription_metrics(
            active_start=active_s.astype(bool),
            mrr_start=mrr_s.astype(np.int64),
            active_end=active_e.astype(bool),
            mrr_end=mrr_e.astype(np.int64),
            started_before=before.astype(bool),
        )
    )
    churn = formulas.churn_rate(sums)
    if churn["churn_rate"] is not None:
        assert churn["churn_rate"] + churn["retention_rate"] == pytest.approx(1.0, abs=1e-12)
        assert 0 <= churn["churn_rate"] <= 1
    retention = formulas.net_retention(sums)
    if retention["net_retention_rate"] is not None:
        assert retention["net_retention_rate"] >= 0
        assert 0 <= retention["gross_retention_rate"] <= 1
        assert retention["gross_retention_rate"] <= retention["net_retention_rate"] + 1e-12
    moves = formulas.mrr_movements(sums)
    rebuilt = (
        moves["start_mrr"] + moves["new_mrr"] + moves["expansion_mrr"] + moves["reactivation_mrr"]
        - moves["contraction_mrr"] - moves["churned_mrr"]
    )  # fmt: skip
    assert rebuilt == pytest.approx(moves["end_mrr"], abs=0.005)


subscription_specs = st.lists(
    st.tuples(
        st.integers(0, 500),  # start, days after BASE
        st.one_of(st.none(), st.integers(1, 400)),  # duration in days, None = open
        st.integers(0, 500),  # MRR
    ),
    max_size=3,
)
book_specs = st.lists(subscription_specs, min_size=1, max_size=8)
periods = st.tuples(st.integers(0, 540), st.integers(1, 300)).map(
    lambda p: (BASE + dt.timedelta(days=p[0]), BASE + dt.timedelta(days=p[0] + p[1]))
)


def _create(book: list) -> list[list[Subscription]]:
    created = []
    for i, subs in enumerate(book):
        account = Account.objects.create(external_id=f"prop-{i}", name=f"Prop {i}")
        created.append(
            [
                Subscription.objects.create(
                    account=account,
                    product="p",
                    mrr=Decimal(mrr),
                    start_date=BASE + dt.timedelta(days=start),
                    end_date=None if length is None else BASE + dt.timedelta(days=start + length),
                )
                for start, length, mrr in subs
            ]
        )
    return created


def _mrr(subs: list[Subscription], day: dt.date) -> int | None:
    active = [s for s in subs if s.is_active_on(day)]
    return sum(int(s.mrr) for s in active) if active else None


@pytest.mark.django_db
@DB_SETTINGS
@given(book=book_specs, period=periods)
def test_live_kpis_match_the_definitions_account_by_account(book, period):
    start, end = period
    with transaction.atomic():
        created = _create(book)
        query = KpiQuery(start=start, end=end)
        churn = kpi_value(KPIS["churn-rate"], query, source="live")
        mrr_churn = kpi_value(KPIS["mrr-churn"], query, source="live")
        retention = kpi_value(KPIS["net-retention"], query, source="live")
        transaction.set_rollback(True)

    at_start = [(subs, _mrr(subs, start)) for subs in created]
    n_start = [(subs, m) for subs, m in at_start if m is not None]
    churned = [(subs, m) for subs, m in n_start if _mrr(subs, end) is None]
    stayed = [(m, _mrr(subs, end)) for subs, m in n_start if _mrr(subs, end) is not None]
    start_mrr = sum(m for _, m in n_start)
    assert churn["n_start"] == len(n_start)
    assert churn["n_churn"] == len(churned)
    if n_start:
        assert churn["churn_rate"] + churn["retention_rate"] == pytest.approx(1.0)
    else:
        assert churn["churn_rate"] is None and churn["reasons"]["churn_rate"]
    downsell = sum(s - e for s, e in stayed if e < s)
    assert mrr_churn["downsell_mrr"] == downsell
    assert mrr_churn["churn_mrr"] == sum(m for _, m in churned)
    if start_mrr:
        assert retention["net_retention_rate"] == pytest.approx(sum(e for _, e in stayed) / start_mrr)
        assert retention["net_retention_rate"] >= 0
        assert 0 <= retention["gross_retention_rate"] <= 1
    else:
        assert retention["net_retention_rate"] is None and retention["reasons"]["net_retention_rate"]


# Accounts whose subscriptions follow each other without a gap: renewals, upgrades, downgrades — no reactivation.
chains = st.lists(
    st.tuples(
        st.integers(0, 400),  # first start, days after BASE
        st.lists(st.integers(1, 200), min_size=1, max_size=3),  # consecutive term lengths
        st.booleans(),  # the last term is open
    ),
    min_size=1,
    max_size=12,
)


def _chain_frame(specs) -> pd.DataFrame:
    rows = []
    for account, (offset, lengths, open_last) in enumerate(specs):
        cursor = BASE + dt.timedelta(days=offset)
        for i, length in enumerate(lengths):
            end = None if (open_last and i == len(lengths) - 1) else cursor + dt.timedelta(days=length)
            rows.append({"account_id": account, "start_date": cursor, "end_date": end})
            cursor = cursor + dt.timedelta(days=length)
    return pd.DataFrame(rows)


@settings(max_examples=60, deadline=None)
@given(specs=chains, cutoff_days=st.integers(30, 900))
def test_cohort_cells_never_increase_without_reactivation(specs, cutoff_days):
    cutoff = BASE + dt.timedelta(days=cutoff_days)
    activity = cohort_activity(_chain_frame(specs), cutoff=cutoff)
    if activity.empty:
        return
    cells = activity.groupby(["cohort", "k"])["active"].sum()
    for cohort, series in cells.groupby(level="cohort"):
        values = series.droplevel("cohort").sort_index().tolist()
        assert values[0] == (activity[(activity["cohort"] == cohort) & (activity["k"] == 0)]).shape[0]
        assert all(later <= earlier for earlier, later in zip(values, values[1:], strict=False))
        # Only cells every member has reached by the cutoff.
        assert add_months(month_end(cohort), len(values) - 1) <= cutoff


@settings(max_examples=60, deadline=None)
@given(book=book_specs, cutoff_days=st.integers(30, 900))
def test_cohort_activity_matches_is_active_on(book, cutoff_days):
    cutoff = BASE + dt.timedelta(days=cutoff_days)
    subs = [
        Subscription(
            account_id=i,
            start_date=BASE + dt.timedelta(days=s),
            end_date=None if n is None else BASE + dt.timedelta(days=s + n),
            mrr=m,
        )
        for i, specs in enumerate(book)
        for s, n, m in specs
    ]
    frame = pd.DataFrame(
        [{"account_id": s.account_id, "start_date": s.start_date, "end_date": s.end_date} for s in subs]
    )
    activity = cohort_activity(frame, cutoff=cutoff) if subs else pd.DataFrame()
    for row in activity.itertuples():
        mine = [s for s in subs if s.account_id == row.account_id]
        first = min(s.start_date for s in mine)
        assert row.cohort == first.replace(day=1)
        assert row.active == any(s.is_active_on(add_months(first, row.k)) for s in mine)
