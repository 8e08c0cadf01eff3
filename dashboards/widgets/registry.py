"""Every dashboard widget: its name in the URL, its title and the builder of its context."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from dashboards.widgets.cards import kpi_cards
from dashboards.widgets.retention import churn_trend, cohorts, mrr_movements, purchases, survival, winback
from dashboards.widgets.signals import engagement, health, health_movement, nps, onboarding
from dashboards.widgets.state import DashboardState
from dashboards.widgets.team import goals, workload

WIDGETS: dict[str, tuple[str, Callable[[DashboardState], dict]]] = {
    "kpi-cards": (_("Key figures"), kpi_cards),
    "churn-trend": (_("Churn by month"), churn_trend),
    "mrr-movements": (_("MRR movements by month"), mrr_movements),
    "nps": (_("NPS distribution"), nps),
    "cohorts": (_("Cohort retention"), cohorts),
    "health": (_("Health bands"), health),
    "workload": (_("CSM workload"), workload),
    "goals": (_("Goals this quarter"), goals),
    "survival": (_("Retention curve (Kaplan–Meier)"), survival),
    "health-movement": (_("Movement between health bands"), health_movement),
    "engagement": (_("Engagement frequency"), engagement),
    "purchases": (_("Purchases: CLV and repeat rate"), purchases),
    "onboarding": (_("Onboarding funnel"), onboarding),
    "winback": (_("Win-back results"), winback),
}
