"""Goals and CAC entries as stored, and the bounds of a quarter (`dashboards.goals` measures how each goal stands)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from dashboards.kpis.periods import add_months
from dashboards.models import AcquisitionCost, Goal


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    return start, add_months(start, 3)


def goal_list(*, year: int | None = None, quarter: int | None = None) -> QuerySet[Goal]:
    goals = Goal.objects.select_related("created_by")
    if year is not None:
        goals = goals.filter(year=year)
    if quarter is not None:
        goals = goals.filter(quarter=quarter)
    return goals


def acquisition_cost_list() -> QuerySet[AcquisitionCost]:
    return AcquisitionCost.objects.select_related("updated_by").order_by("-month", "segment")
