"""How each goal stands: its KPI measured over its quarter so far, through the KPI catalogue, against its target."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dashboards import selectors
from dashboards.catalog import KPIS, kpi_value
from dashboards.kpis.periods import month_start
from dashboards.models import Comparator, Goal, GoalMetric
from dashboards.params import KpiFilters, KpiQuery
from dashboards.selectors.goals import goal_list, quarter_bounds

# How each goal metric reads: its unit and whether it is a rate shown in percent.
UNITS = {
    GoalMetric.MONTHLY_CHURN: "%",
    GoalMetric.MRR_CHURN: "%",
    GoalMetric.NET_RETENTION: "%",
    GoalMetric.GROSS_RETENTION: "%",
    GoalMetric.NPS: "pts",
    GoalMetric.CSAT: "%",
    GoalMetric.MRR: "money",  # in the reporting currency
    GoalMetric.ARPA: "money",
}


@dataclass(frozen=True)
class GoalProgress:
    goal: Goal
    actual: float | None  # in the goal's unit
    status: str  # met, missed, on_track, off_track, no_data, not_started
    progress: int  # 0–100, for the bar
    measured: tuple[dt.date, dt.date] | None
    note: str = ""

    @property
    def unit(self) -> str:
        return UNITS[GoalMetric(self.goal.metric)]

    @property
    def label(self) -> str:
        return {"met": _("Met"), "missed": _("Missed"), "on_track": _("On track"), "off_track": _("Off track"),
                "no_data": _("No data yet"), "not_started": _("Not started")}[self.status]  # fmt: skip


def _measure(goal: Goal, today: dt.date) -> tuple[float | None, tuple[dt.date, dt.date] | None, str]:
    """The goal's KPI over its quarter so far: rates over the complete months, surveys until today, MRR today."""
    q_start, q_end = quarter_bounds(goal.year, goal.quarter)
    filters = KpiFilters(segments=(goal.segment,) if goal.segment else ())
    metric = GoalMetric(goal.metric)
    if metric in (GoalMetric.NPS, GoalMetric.CSAT):
        window = (q_start, min(q_end, today + dt.timedelta(days=1)))
        row = kpi_value(KPIS[metric.value], KpiQuery(start=window[0], end=window[1], filters=filters))
        return row[metric.value], window, row["reasons"].get(metric.value, "")
    if metric in (GoalMetric.MRR, GoalMetric.ARPA):
        window = (q_start, min(q_end, today))
        if window[1] <= window[0]:
            return None, None, gettext_noop("The quarter has not started.")
        row = kpi_value(KPIS["arpa"], KpiQuery(start=window[0], end=window[1], filters=filters))
        return row[metric.value], window, row["reasons"].get(metric.value, "")
    window = (q_start, min(q_end, month_start(today)))
    if window[1] <= window[0]:
        return None, None, gettext_noop("No complete month of the quarter yet.")
    if metric in (GoalMetric.NET_RETENTION, GoalMetric.GROSS_RETENTION):
        key = f"{metric.value}_rate"
        row = kpi_value(KPIS["net-retention"], KpiQuery(start=window[0], end=window[1], filters=filters))
        return _percent(row[key]), window, row["reasons"].get(key, "")
    months = selectors.monthly_subscription_sums(start=window[0], end=window[1], filters=filters)
    if metric == GoalMetric.MONTHLY_CHURN:
        lost, base = sum(m["n_churn"] for m in months), sum(m["n_start"] for m in months)
    else:
        lost = sum(m["churn_mrr"] + m["downsell_mrr"] for m in months)
        base = sum(m["start_mrr"] for m in months)
    if not base:
        return None, window, gettext_noop("Nothing was active at the month starts of the quarter.")
    return 100 * lost / base, window, ""


def _percent(value: float | None) -> float | None:
    return None if value is None else 100 * value


def goal_progress(goal: Goal, *, today: dt.date | None = None) -> GoalProgress:
    today = today or timezone.localdate()
    q_start, q_end = quarter_bounds(goal.year, goal.quarter)
    if q_start > today:
        return GoalProgress(goal, None, "not_started", 0, None, gettext_noop("The quarter has not started."))
    actual, measured, note = _measure(goal, today)
    if actual is None:
        return GoalProgress(goal, None, "no_data", 0, measured, note)
    target = float(goal.target)
    met = actual <= target if goal.comparator == Comparator.AT_MOST else actual >= target
    if met:
        progress = 100
    elif goal.comparator == Comparator.AT_MOST:
        progress = int(100 * target / actual) if actual > 0 else 0
    else:
        progress = int(100 * actual / target) if target > 0 else 0
    over = q_end <= today
    status = ("met" if met else "missed") if over else ("on_track" if met else "off_track")
    return GoalProgress(goal, actual, status, max(0, min(100, progress)), measured, note)


def goals_progress(*, year: int, quarter: int, today: dt.date | None = None) -> list[GoalProgress]:
    return [goal_progress(goal, today=today) for goal in goal_list(year=year, quarter=quarter)]
