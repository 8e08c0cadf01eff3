"""Reads of the precomputed KPI facts: one aggregate query over a few hundred rows, whatever the data size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Sum

from dashboards.kpis.metrics import CSAT_SCORES, NPS_SCORES, SUBSCRIPTION_SUMS
from dashboards.kpis.periods import Window, add_months, is_month_start, month_end, month_start
from dashboards.models import CohortFact, FactRunStatus, KpiFactRun, PeriodFact
from dashboards.params import KpiFilters

Period = tuple[dt.date, dt.date]
# The inactivity windows the facts hold (DESIGN.md's two), by the column prefix they are stored under.
FACT_WINDOWS = {"1m": Window(1, "m"), "30d": Window(30, "d")}


def latest_run() -> KpiFactRun | None:
    return KpiFactRun.objects.filter(status=FactRunStatus.COMPLETE).order_by("-finished_at", "-pk").first()


def covers_periods(run: KpiFactRun | None, periods: Sequence[Period], filters: KpiFilters) -> bool:
    """Facts answer periods whose ends are month starts within the run's months, filtered by segment and plan."""
    return (
        run is not None
        and not filters.owner
        and all(is_month_start(s) and is_month_start(e) and run.first_month <= s < e <= run.last_month
                for s, e in periods)
    )  # fmt: skip


def covers_cohorts(run: KpiFactRun | None, start: dt.date, end: dt.date, filters: KpiFilters) -> bool:
    return run is not None and not filters.owner and run.first_month <= month_start(start) and end <= run.last_month


def _sums(periods: Sequence[Period], filters: KpiFilters, columns: dict[str, str]) -> dict[Period, dict[str, int]]:
    rows = (
        PeriodFact.objects.filter(filters.q(), start__in={s for s, _ in periods}, end__in={e for _, e in periods})
        .values("start", "end")
        .annotate(**{alias: Sum(column) for alias, column in columns.items()})
        .order_by()
    )
    found = {(row["start"], row["end"]): row for row in rows}
    return {p: {alias: int(found.get(p, {}).get(alias) or 0) for alias in columns} for p in periods}


def subscription_sums(periods: Sequence[Period], filters: KpiFilters) -> dict[Period, dict[str, int]]:
    return _sums(periods, filters, {name: name for name in SUBSCRIPTION_SUMS})


def activity_sums(periods: Sequence[Period], filters: KpiFilters, window: Window) -> dict[Period, dict[str, int]]:
    prefix = f"act_{window}"
    return _sums(periods, filters, {"act_start": f"{prefix}_start", "act_churn": f"{prefix}_churn"})


def survey_counts(periods: Sequence[Period], filters: KpiFilters, kind: str) -> dict[Period, list[int]]:
    scores = NPS_SCORES if kind == "nps" else CSAT_SCORES
    sums = _sums(periods, filters, {f"{kind}_{score}": f"{kind}_{score}" for score in scores})
    return {p: [row[f"{kind}_{score}"] for score in scores] for p, row in sums.items()}


def cohort_cells(start: dt.date, end: dt.date, filters: KpiFilters) -> list[dict]:
    """(cohort, k, n_active) of cohorts starting in [month of start, end), only cells observable at `end`."""
    rows = (
        CohortFact.objects.filter(filters.q(), cohort__gte=month_start(start), cohort__lt=end)
        .values("cohort", "k")
        .annotate(n_active=Sum("n_active"))
        .order_by("cohort", "k")
    )
    return [
        {"cohort": row["cohort"], "k": row["k"], "n_active": int(row["n_active"])}
        for row in rows
        if add_months(month_end(row["cohort"]), row["k"]) <= end
    ]
