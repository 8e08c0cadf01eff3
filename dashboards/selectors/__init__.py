"""Reads of the dashboards app.

KPI sums come from the precomputed facts (`facts`) when the latest fact run covers the request — periods between
two month starts of its horizon, filtered by segment and plan, which is what the dashboard asks for — and are
computed live from the accounts tables (`live`) otherwise (an owner's accounts are a small, indexed query).
Both paths add up the same per-account metrics, so they give the same numbers for the same data; the facts are
as fresh as their last run (`latest_run().finished_at`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from accounts import selectors as account_selectors
from accounts.models import Account, AccountStatus, HealthBand
from dashboards.kpis.metrics import activity_metrics, period_account_metrics, total
from dashboards.kpis.periods import month_start, split_periods
from dashboards.models import AccountSnapshotFact, AcquisitionCost, PeriodFact
from dashboards.params import KpiFilters
from dashboards.selectors import kpi_facts, live
from dashboards.selectors.kpi_facts import FACT_WINDOWS

Period = tuple[dt.date, dt.date]
AUTO, LIVE, FACTS = "auto", "live", "facts"
_SHARED: ContextVar[dict | None] = ContextVar("dashboards_shared_reads", default=None)
_FACTS_READ: ContextVar[list | None] = ContextVar("dashboards_facts_read", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Within this block, a read asked again with the same arguments is answered from the first answer, and the
    fact runs the reads were answered from are noted (see `facts_read_at`).

    A widget shows several KPIs of one period: they need the same sums and the same latest fact run.
    """
    token, read_token = _SHARED.set({}), _FACTS_READ.set([])
    try:
        yield
    finally:
        _SHARED.reset(token)
        _FACTS_READ.reset(read_token)


def facts_read_at() -> dt.datetime | None:
    """When the fact run that answered a read of the current `shared_reads` block finished (the oldest, if several);
    None when every read was computed live. A widget showing precomputed figures prints their age from this."""
    runs = [run for run in _FACTS_READ.get() or [] if run is not None]
    return min((run.finished_at for run in runs), default=None)


def _frozen(value):
    return tuple(value) if isinstance(value, list) else value


def shared_figure(read):
    @functools.wraps(read)
    def wrapper(**kwargs):
        memo = _SHARED.get()
        if memo is None:
            return read(**kwargs)
        key = (read.__name__, *sorted((name, _frozen(value)) for name, value in kwargs.items()))
        if key not in memo:
            memo[key] = read(**kwargs)
        return memo[key]

    return wrapper


latest_run = shared_figure(kpi_facts.latest_run)

__all__ = [
    "activity_sums",
    "cac_for",
    "cohort_cells",
    "csm_workload",
    "facts_read_at",
    "health_band_counts",
    "latest_run",
    "plan_choices",
    "shared_reads",
    "monthly_subscription_sums",
    "subscription_sums",
    "survey_counts",
]


def use_facts(source: str, covered: bool) -> bool:
    if source == FACTS and not covered:
        raise ValueError(gettext("The KPI facts do not cover this request; refresh them or ask for source='live'."))
    use = source != LIVE and covered
    read = _FACTS_READ.get()
    if use and read is not None:
        read.append(latest_run())
    return use


@shared_figure
def subscription_sums(
    *, periods: Sequence[Period], filters: KpiFilters, source: str = AUTO
) -> dict[Period, dict[str, int]]:
    """Subscription sums (counts and cents) of each period [S, E]: see `dashboards.kpis.metrics`."""
    if use_facts(source, kpi_facts.covers_periods(latest_run(), periods, filters)):
        return kpi_facts.subscription_sums(periods, filters)
    scope = live.account_scope(filters)
    matrix, firsts = live.mrr_matrix(sorted({day for period in periods for day in period}), scope)
    result = {}
    for start, end in periods:
        _, metrics = period_account_metrics(matrix, firsts, start, end)
        result[(start, end)] = total(metrics)
    return result


def monthly_subscription_sums(*, start: dt.date, end: dt.date, filters: KpiFilters, source: str = AUTO) -> list[dict]:
    """Subscription sums of each month of [start, end] (consecutive month starts; partial ends as they are)."""
    periods = split_periods(start, end, "month")
    sums = subscription_sums(periods=periods, filters=filters, source=source)
    return [sums[p] for p in periods]


@shared_figure
def activity_sums(
    *, periods: Sequence[Period], window, filters: KpiFilters, source: str = AUTO
) -> dict[Period, dict[str, int]]:
    """Activity-churn sums of each period for the inactivity window."""
    fact_window = str(window) in FACT_WINDOWS
    if use_facts(source, fact_window and kpi_facts.covers_periods(latest_run(), periods, filters)):
        return kpi_facts.activity_sums(periods, filters, window)
    days = sorted({day for period in periods for day in period})
    flags = live.event_window_flags({day: window.bounds(day) for day in days}, live.account_scope(filters))
    result = {}
    for start, end in periods:
        if flags.empty:
            result[(start, end)] = {"act_start": 0, "act_churn": 0}
            continue
        result[(start, end)] = total(activity_metrics(active_start=flags[start], active_end=flags[end]))
    return result


@shared_figure
def survey_counts(
    *, periods: Sequence[Period], kind: str, filters: KpiFilters, dedupe: bool = False, source: str = AUTO
) -> dict[Period, list[int]]:
    """Responses of `kind` (nps or csat) per score in each period [S, E)."""
    if use_facts(source, not dedupe and kpi_facts.covers_periods(latest_run(), periods, filters)):
        return kpi_facts.survey_counts(periods, filters, kind)
    scope = live.account_scope(filters)
    return {
        (start, end): live.survey_score_counts(kind=kind, start=start, end=end, scope=scope, dedupe=dedupe)
        for start, end in periods
    }


@shared_figure
def cohort_cells(*, start: dt.date, end: dt.date, filters: KpiFilters, source: str = AUTO) -> list[dict]:
    """(cohort, k, n_active) cells of the monthly cohorts in [start, end), observed at `end`."""
    if use_facts(source, kpi_facts.covers_cohorts(latest_run(), start, end, filters)):
        return kpi_facts.cohort_cells(start, end, filters)
    return live.cohort_cell_counts(start=start, end=end, scope=live.account_scope(filters))


def _account_totals(*, by: str, filters: KpiFilters, source: str) -> dict:
    """Accounts that have not churned, grouped by `by` (health_band or owner_id): count, MRR, at risk.

    From the snapshot facts of the latest run when there is one, else one aggregate over the accounts.
    """
    if use_facts(source, latest_run() is not None):
        rows = (
            AccountSnapshotFact.objects.filter(filters.q())
            .values(by)
            .annotate(n=Sum("n_accounts"), cents=Sum("mrr"), n_at_risk=Sum("n_at_risk"))
            .order_by()
        )
        return {row[by]: {"n": int(row["n"]), "mrr": row["cents"] / 100, "n_at_risk": int(row["n_at_risk"])}
                for row in rows}  # fmt: skip
    rows = (
        Account.objects.filter(filters.q())
        .exclude(status=AccountStatus.CHURNED)
        .values(by)
        .annotate(
            n=Count("id"),
            mrr=Coalesce(Sum("mrr"), Value(Decimal("0")), output_field=DecimalField()),
            n_at_risk=Count("id", filter=Q(status=AccountStatus.AT_RISK) | Q(health_band=HealthBand.RED)),
        )
        .order_by()
    )
    return {row[by]: {"n": row["n"], "mrr": float(row["mrr"]), "n_at_risk": row["n_at_risk"]} for row in rows}


def health_band_counts(*, filters: KpiFilters, source: str = AUTO) -> list[dict]:
    """Accounts that have not churned per health band (cached on Account by the health app), with their MRR."""
    rows = _account_totals(by="health_band", filters=filters, source=source)
    bands = [(band.value, band.label) for band in HealthBand] + [("", gettext("Not scored"))]
    return [
        {"band": value or "unscored", "label": label, "n_accounts": rows.get(value, {}).get("n", 0),
         "mrr": rows.get(value, {}).get("mrr", 0.0)}
        for value, label in bands
    ]  # fmt: skip


def _task_load(*, filters: KpiFilters, today: dt.date) -> dict:
    """Open and overdue tasks per assignee, on accounts of the filtered segment and plan (owner = the assignee).

    Always live, through the same selector as My day: a person's tasks are never read from a precomputed copy.
    """
    return account_selectors.open_task_counts(
        today=today, task_filter=filters.q(prefix="account__", owner_field="assignee_id")
    )


def csm_workload(*, filters: KpiFilters, today: dt.date | None = None, source: str = AUTO) -> list[dict]:
    """Per person: the accounts they own (not churned), their MRR and at-risk ones; the open and overdue tasks
    assigned to them. Segment and plan filter the accounts (of the tasks too); the owner filter picks the person."""
    today = today or timezone.localdate()
    accounts = _account_totals(by="owner_id", filters=filters, source=source)
    tasks = _task_load(filters=filters, today=today)
    owner_ids = [pk for pk in set(accounts) | set(tasks) if pk is not None]
    names = {
        pk: f"{first} {last}".strip() or username
        for pk, first, last, username in get_user_model()
        .objects.filter(pk__in=owner_ids)
        .values_list("pk", "first_name", "last_name", "username")
    }
    rows = []
    for pk in set(accounts) | set(tasks):
        a, t = accounts.get(pk, {}), tasks.get(pk, {})
        rows.append(
            {
                "owner_id": pk,
                "owner": names.get(pk, "Unassigned"),
                "n_accounts": a.get("n", 0),
                "mrr": a.get("mrr", 0.0),
                "n_at_risk": a.get("n_at_risk", 0),
                "open_tasks": t.get("open_tasks", 0),
                "overdue_tasks": t.get("overdue_tasks", 0),
            }
        )
    rows.sort(key=lambda row: (-row["mrr"], row["owner_id"] is None, row["owner"], row["owner_id"] or 0))
    return rows


def cac_for(*, start: dt.date, end: dt.date, segments: Sequence[str] = ()) -> float | None:
    """Average CAC entered for the months of [start, end); a segment's own entry wins when one segment is asked."""
    entries = AcquisitionCost.objects.filter(month__gte=month_start(start), month__lt=end)
    segment = segments[0] if len(segments) == 1 else ""
    by_month: dict[dt.date, Decimal] = {}
    for entry in entries.filter(segment__in={"", segment}).order_by("month", "segment"):
        # Ordered by segment, so a segment's own entry ("smb") overrides the all-segments one ("").
        by_month[entry.month] = entry.amount
    if not by_month:
        return None
    return float(sum(by_month.values()) / len(by_month))


def plan_choices() -> list[str]:
    """The plans accounts are on, for the plan filter (from the facts when there are any: a tiny table)."""
    if latest_run() is not None:
        plans = PeriodFact.objects.exclude(plan="").values_list("plan", flat=True).distinct()
    else:
        plans = Account.objects.exclude(plan="").values_list("plan", flat=True).distinct()
    return sorted(set(plans.order_by()))
