"""Every dashboard widget: its name in the URL, its title and the builder of its context."""

from __future__ import annotations

from collections.abc import Callable

from dashboards.widgets.cards import kpi_cards
from dashboards.widgets.retention import churn_trend, cohorts, mrr_movements, purchases, survival, winback
from dashboards.widgets.signals import engagement, health, health_movement, nps, onboarding
from dashboards.widgets.state import DashboardState
from dashboards.widgets.team import goals, workload

WIDGETS: dict[str, tuple[str, Callable[[DashboardState], dict]]] = {
    "kpi-cards": ("Key figures", kpi_cards),
    "churn-trend": ("Churn by month", churn_trend),
    "mrr-movements": ("MRR movements by month", mrr_movements),
    "nps": ("NPS distribution", nps),
    "cohorts": ("Cohort retention", cohorts),
    "health": ("Health bands", health),
    "workload": ("CSM workload", workload),
    "goals": ("Goals this quarter", goals),
    "survival": ("Retention curve (Kaplan–Meier)", survival),
    "health-movement": ("Movement between health bands", health_movement),
    "engagement": ("Engagement frequency", engagement),
    "purchases": ("Purchases: CLV and repeat rate", purchases),
    "onboarding": ("Onboarding funnel", onboarding),
    "winback": ("Win-back results", winback),
}
