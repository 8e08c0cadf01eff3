"""Purchase KPIs from paid invoices: purchase CLV and the repeat purchase rate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.translation import gettext_noop

from dashboards.kpis.formulas._common import DAYS_PER_MONTH, Reasons, Row, money_value


def purchase_clv(sums: Mapping[str, int], months: Sequence[Mapping[str, int]], *, days: int) -> Row:
    """Purchase CLV = average purchase value × purchase frequency × average customer lifespan.

    `sums`: paid invoices of the period (n_purchases, revenue in cents, n_customers, n_repeat); `months`: the
    subscription sums of its months (for the lifespan); `days`: the period's length. Average purchase value =
    revenue ÷ purchases; frequency = purchases per customer per month (a month = 365.25 ÷ 12 days); lifespan =
    1 ÷ monthly logo churn (pooled over the month starts of the period, as the subscription CLV), in months.
    """
    reasons = Reasons()
    why_none = gettext_noop("No paid invoice (a succeeded payment with an amount) in the period.")
    apv_cents = reasons.ratio("average_purchase_value", sums["revenue"], sums["n_purchases"], why_none)
    per_customer = reasons.ratio("purchase_frequency", sums["n_purchases"], sums["n_customers"], why_none)
    frequency = None if per_customer is None else per_customer / (days / DAYS_PER_MONTH)
    n_start = sum(m["n_start"] for m in months)
    n_churn = sum(m["n_churn"] for m in months)
    churn = reasons.ratio(
        "monthly_churn_rate", n_churn, n_start, gettext_noop("No account was active at any month start.")
    )
    lifespan = None
    if churn is not None:
        lifespan = reasons.ratio(
            "average_lifespan_months",
            1,
            churn,
            gettext_noop("No account churned in the period, so the lifespan is unbounded."),
        )
    else:
        reasons["average_lifespan_months"] = reasons["monthly_churn_rate"]
    value = None
    if apv_cents is None or lifespan is None:
        reasons["purchase_clv"] = reasons.get("average_purchase_value") or reasons["average_lifespan_months"]
    else:
        value = apv_cents / 100 * frequency * lifespan
    return {
        "purchase_clv": None if value is None else round(value, 2),
        "average_purchase_value": None if apv_cents is None else round(apv_cents / 100, 2),
        "purchase_frequency": frequency,
        "average_lifespan_months": lifespan,
        "monthly_churn_rate": churn,
        "revenue": money_value(sums["revenue"]),
        "n_purchases": sums["n_purchases"],
        "n_customers": sums["n_customers"],
        "reasons": reasons,
    }


def repeat_purchase_rate(sums: Mapping[str, int]) -> Row:
    """Customers with more than one paid invoice in the period ÷ customers with at least one."""
    reasons = Reasons()
    rate = reasons.ratio(
        "repeat_purchase_rate", sums["n_repeat"], sums["n_customers"], gettext_noop("No paid invoice in the period.")
    )
    return {
        "repeat_purchase_rate": rate,
        "n_customers": sums["n_customers"],
        "n_repeat": sums["n_repeat"],
        "n_purchases": sums["n_purchases"],
        "reasons": reasons,
    }
