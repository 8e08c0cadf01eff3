"""Widgets of the team: CSM workload by owner and the goals of the quarter."""

from __future__ import annotations

from dataclasses import replace

from django.utils import timezone
from django.utils.translation import gettext as _

from churnapp.money import currency
from dashboards.catalog import KPIS, kpi_value
from dashboards.goals import goals_progress
from dashboards.widgets._common import NOT_CHURNED
from dashboards.widgets.state import DashboardState

WORKLOAD_ROWS = 25  # owners shown, by MRR; the CSV has them all


def workload(state: DashboardState) -> dict:
    owners = kpi_value(KPIS["csm-workload"], replace(state.query, start=None, end=None))["owners"]
    shown = owners[:WORKLOAD_ROWS]
    for owner in shown:
        owner["href"] = state.accounts_link(owner=str(owner["owner_id"]) if owner["owner_id"] else "none",
                                            status=NOT_CHURNED)  # fmt: skip
    columns = ["owner", "n_accounts", "mrr", "n_at_risk", "open_tasks", "overdue_tasks"]
    # Account columns come from the latest KPI facts run when there is one (the view adds its age as `facts_at`);
    # the task columns are always live.
    return {"owners": shown, "more": len(owners) - len(shown), "rows": owners, "columns": columns,
            "money_columns": ["mrr"]}  # fmt: skip


def goals(state: DashboardState) -> dict:
    today = timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    progress = goals_progress(year=today.year, quarter=quarter, today=today)
    rows = [{"goal": str(p.goal), "metric": p.goal.metric, "segment": p.goal.segment, "comparator": p.goal.comparator,
             "target": float(p.goal.target), "actual": p.actual, "status": p.status,
             "currency": currency() if p.unit == "money" else ""} for p in progress]  # fmt: skip
    label = _("%(year)s Q%(quarter)s") % {"year": today.year, "quarter": quarter}
    return {"progress": progress, "quarter": label, "rows": rows,
            "columns": ["goal", "metric", "segment", "comparator", "target", "actual", "status",
                        "currency"]}  # fmt: skip
