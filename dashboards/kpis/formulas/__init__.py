"""The KPI formulas of DESIGN.md ("KPI definitions"), from sums to the keys the API answers.

Each function takes the sums of `dashboards.kpis.metrics` (money in cents) and returns a row: the KPI's keys plus
`reasons`, a message for every key that is null because its denominator is zero. Nothing here raises on empty data.

Modules by subject: `subscriptions`, `surveys`, `purchases` and `lifecycle`; their names are re-exported here, so
`formulas.churn_rate` keeps working.
"""

from dashboards.kpis.formulas._common import DAYS_PER_MONTH, Row
from dashboards.kpis.formulas.lifecycle import (
    BAND_RANK,
    BANDS,
    SURVIVAL_MONTHS,
    band_movement,
    engagement_frequency,
    onboarding_funnel,
    survival_curve,
    winback_results,
)
from dashboards.kpis.formulas.purchases import purchase_clv, repeat_purchase_rate
from dashboards.kpis.formulas.subscriptions import (
    activity_churn,
    arpa,
    churn_rate,
    clv,
    cohort_retention,
    mrr_churn,
    mrr_movements,
    net_retention,
)
from dashboards.kpis.formulas.surveys import csat, nps

__all__ = [
    "BANDS",
    "BAND_RANK",
    "DAYS_PER_MONTH",
    "Row",
    "SURVIVAL_MONTHS",
    "activity_churn",
    "arpa",
    "band_movement",
    "churn_rate",
    "clv",
    "cohort_retention",
    "csat",
    "engagement_frequency",
    "mrr_churn",
    "mrr_movements",
    "net_retention",
    "nps",
    "onboarding_funnel",
    "purchase_clv",
    "repeat_purchase_rate",
    "survival_curve",
    "winback_results",
]
