"""Reads of the precomputed KPI facts: one aggregate query over a few hundred rows, whatever the data size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from django.db.models import Sum

from dashboards.kpis.kpi_facts import weighted_median
from dashboards.kpis.metrics import CSAT_SCORES, NPS_SCORES, SUBSCRIPTION_SUMS
from dashboards.kpis.periods import Window, add_months, is_month_start, month_end, month_start
from dashboards.models import (
    BandMovementFact,
    CohortFact,
    EngagementFact,
    FactRunStatus,
    KpiFactRun,
    LifetimeFact,
    OnboardingFact,
    PeriodFact,
)
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


def covers_run_end(run: KpiFactRun | None, start: dt.date, end: dt.date, filters: KpiFilters) -> bool:
    """Lifetimes and band movement are stored for periods from a month start of the run to its last month start
    (where the dashboard's presets end while the run is of the current month)."""
    return (
        run is not None and not filters.owner and is_month_start(start) and run.first_month <= start < end
        and end == run.last_month
    )  # fmt: skip


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


def lifetime_counts(start: dt.date, end: dt.date, filters: KpiFilters) -> pd.DataFrame:
    """Lifetimes of the accounts whose first subscription started in [start, end): columns duration, event, n."""
    rows = (
        LifetimeFact.objects.filter(filters.q(), cohort__gte=start, cohort__lt=end)
        .values("duration", "churned")
        .annotate(n=Sum("n"))
        .order_by()
        .values_list("duration", "churned", "n")
    )
    return pd.DataFrame(list(rows), columns=["duration", "event", "n"])


def band_movement(start: dt.date, filters: KpiFilters) -> dict | None:
    """The band movement from `start` to the run's last month start; None when the run stored none for `start`."""
    days = BandMovementFact.objects.filter(start=start).values_list("from_day", "to_day").first()
    if days is None:
        return None
    rows = (
        BandMovementFact.objects.filter(filters.q(), start=start)
        .values("from_band", "to_band")
        .annotate(n=Sum("n"))
        .order_by()
    )
    return {"from_day": days[0], "to_day": days[1], "transitions": [{**row, "n": int(row["n"])} for row in rows]}


def engagement_counts(
    start: dt.date, end: dt.date, filters: KpiFilters, buckets: Sequence[tuple[int, int]]
) -> dict | None:
    """Accounts per bucket of active days and their average, on the last metrics day before `end` (None for the
    day when it is before `start`); None when the run stored nothing for `end`."""
    day = EngagementFact.objects.filter(end=end).values_list("day", flat=True).first()
    if day is None:
        return None
    if day < start:
        return {"day": None, "counts": [0] * len(buckets), "average": None}
    per_days = dict(
        EngagementFact.objects.filter(filters.q(), end=end)
        .values("active_days")
        .annotate(n=Sum("n"))
        .order_by()
        .values_list("active_days", "n")
    )
    n = sum(per_days.values())
    return {
        "day": day,
        "counts": [sum(c for d, c in per_days.items() if low <= d <= high) for low, high in buckets],
        "average": sum(d * c for d, c in per_days.items()) / n if n else None,
    }


def onboarding_counts(start: dt.date, end: dt.date, filters: KpiFilters) -> dict[int, dict]:
    """Per journey id, for the accounts created in [start, end): `n` on the journey, and per milestone id the
    `counts` (reached, missed) and `medians` (whole days to reach it) of `automations.selectors.funnel_summary`."""
    rows = (
        OnboardingFact.objects.filter(filters.q(), cohort__gte=start, cohort__lt=end)
        .values("journey_id", "milestone_id", "days")
        .annotate(accounts=Sum("n_accounts"), reached=Sum("n_reached"), missed=Sum("n_missed"))
        .order_by()
    )
    out: dict[int, dict] = {}
    spans: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        journey = out.setdefault(row["journey_id"], {"n": 0, "counts": {}, "medians": {}})
        milestone = row["milestone_id"]
        if milestone is None:
            journey["n"] += int(row["accounts"])
            continue
        counts = journey["counts"].setdefault(milestone, {"reached": 0, "missed": 0})
        counts["reached"] += int(row["reached"])
        counts["missed"] += int(row["missed"])
        if row["days"] is not None and row["reached"]:
            spans.setdefault(milestone, []).append((row["days"], int(row["reached"])))
    for journey in out.values():
        journey["medians"] = {m: weighted_median(spans[m]) for m in journey["counts"] if m in spans}
    return out
