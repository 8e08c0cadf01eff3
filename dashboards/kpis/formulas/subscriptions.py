"""Subscription KPIs: logo, MRR and activity churn, net and gross retention, MRR movements, ARPA, subscription
CLV and cohort retention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext_noop

from dashboards.kpis.formulas._common import Reasons, Row, money_value


def churn_rate(sums: Mapping[str, int]) -> Row:
    """Accounts active at S and not at E ÷ accounts active at S; retention = 1 − churn."""
    reasons = Reasons()
    rate = reasons.ratio(
        "churn_rate", sums["n_churn"], sums["n_start"], gettext_noop("No account was active at the start date.")
    )
    if rate is None:
        reasons["retention_rate"] = reasons["churn_rate"]
    return {
        "churn_rate": rate,
        "retention_rate": None if rate is None else (sums["n_start"] - sums["n_churn"]) / sums["n_start"],
        "n_start": sums["n_start"],
        "n_churn": sums["n_churn"],
        "reasons": reasons,
    }


def mrr_churn(sums: Mapping[str, int]) -> Row:
    """(MRR at S of churned accounts + downsell of accounts active at both) ÷ total MRR at S."""
    reasons = Reasons()
    lost = sums["churn_mrr"] + sums["downsell_mrr"]
    rate = reasons.ratio("mrr_churn_rate", lost, sums["start_mrr"], gettext_noop("There was no MRR at the start date."))
    return {
        "mrr_churn_rate": rate,
        "start_mrr": money_value(sums["start_mrr"]),
        "churn_mrr": money_value(sums["churn_mrr"]),
        "downsell_mrr": money_value(sums["downsell_mrr"]),
        "n_start": sums["n_start"],
        "reasons": reasons,
    }


def net_retention(sums: Mapping[str, int]) -> Row:
    """NRR = MRR at E of the accounts active at S and E ÷ MRR at S; gross caps each account at its MRR(S)."""
    reasons = Reasons()
    why = gettext_noop("There was no MRR at the start date.")
    return {
        "net_retention_rate": reasons.ratio("net_retention_rate", sums["retained_mrr"], sums["start_mrr"], why),
        "gross_retention_rate": reasons.ratio(
            "gross_retention_rate", sums["gross_retained_mrr"], sums["start_mrr"], why
        ),
        "start_mrr": money_value(sums["start_mrr"]),
        "retained_mrr": money_value(sums["retained_mrr"]),
        "gross_retained_mrr": money_value(sums["gross_retained_mrr"]),
        "reasons": reasons,
    }


def activity_churn(sums: Mapping[str, int]) -> Row:
    """Accounts with an event in (S−W, S] and none in (E−W, E] ÷ accounts with an event in (S−W, S]."""
    reasons = Reasons()
    rate = reasons.ratio(
        "churn_rate",
        sums["act_churn"],
        sums["act_start"],
        gettext_noop("No account had an event in the window before the start."),
    )
    if rate is None:
        reasons["retention_rate"] = reasons["churn_rate"]
    return {
        "churn_rate": rate,
        "retention_rate": None if rate is None else (sums["act_start"] - sums["act_churn"]) / sums["act_start"],
        "n_start": sums["act_start"],
        "n_churn": sums["act_churn"],
        "reasons": reasons,
    }


def mrr_movements(sums: Mapping[str, int]) -> Row:
    """MRR(E) = MRR(S) + new + expansion + reactivation − contraction − churned (accounts compared at S and E)."""
    return {
        "start_mrr": money_value(sums["start_mrr"]),
        "new_mrr": money_value(sums["new_mrr"]),
        "expansion_mrr": money_value(sums["expansion_mrr"]),
        "reactivation_mrr": money_value(sums["reactivation_mrr"]),
        "contraction_mrr": money_value(sums["downsell_mrr"]),
        "churned_mrr": money_value(sums["churn_mrr"]),
        "end_mrr": money_value(sums["end_mrr"]),
        "net_change_mrr": money_value(sums["end_mrr"] - sums["start_mrr"]),
        "n_new": sums["n_new"],
        "n_expanded": sums["n_expanded"],
        "n_reactivated": sums["n_reactivated"],
        "n_contracted": sums["n_contracted"],
        "n_churned": sums["n_churn"],
        "reasons": {},
    }


def arpa(sums: Mapping[str, int]) -> Row:
    """MRR at E (sum of active MRR) and ARPA = MRR ÷ accounts active at E."""
    reasons = Reasons()
    value = reasons.ratio(
        "arpa", sums["end_mrr"], sums["n_end"], gettext_noop("No account was active at the end date.")
    )
    return {
        "arpa": None if value is None else round(value / 100, 2),
        "mrr": money_value(sums["end_mrr"]),
        "n_active": sums["n_end"],
        "reasons": reasons,
    }


def clv(months: Sequence[Mapping[str, int]], *, margin: float, cac: float | None) -> Row:
    """Subscription CLV = ARPA × gross margin ÷ monthly churn rate, over the months of the period.

    Monthly figures use consecutive month starts, pooled over the months: monthly churn = Σ churned ÷ Σ active
    at each month start; ARPA = Σ MRR at each month start ÷ Σ active at each month start. CLV:CAC divides by the
    CAC managers entered for those months.
    """
    reasons = Reasons()
    n_start = sum(m["n_start"] for m in months)
    n_churn = sum(m["n_churn"] for m in months)
    start_mrr = sum(m["start_mrr"] for m in months)
    why_empty = gettext_noop("No account was active at any month start of the period.")
    churn = reasons.ratio("monthly_churn_rate", n_churn, n_start, why_empty)
    arpa_cents = reasons.ratio("arpa", start_mrr, n_start, why_empty)
    value = None
    if arpa_cents is not None and churn is not None:
        value = reasons.ratio(
            "clv",
            arpa_cents / 100 * margin,
            churn,
            gettext_noop("No account churned in the period, so the lifetime is unbounded."),
        )
    else:
        reasons["clv"] = why_empty
    ratio = None
    if cac is None:
        reasons["cac"] = gettext_noop("No CAC was entered for the months of the period.")
        reasons["clv_cac_ratio"] = reasons["cac"]
    elif value is None:
        reasons["clv_cac_ratio"] = reasons["clv"]
    else:
        ratio = reasons.ratio("clv_cac_ratio", value, cac, gettext_noop("The CAC entered for the period is zero."))
    return {
        "clv": None if value is None else round(value, 2),
        "arpa": None if arpa_cents is None else round(arpa_cents / 100, 2),
        "monthly_churn_rate": churn,
        "gross_margin": margin,
        "cac": cac,
        "clv_cac_ratio": ratio,
        "n_months": len(months),
        "reasons": reasons,
    }


def cohort_retention(cells: Sequence[Mapping[str, Any]]) -> Row:
    """Cohort grid from (cohort, k, n_active) cells: each row's `retention[k]` = n_active(k) ÷ cohort size."""
    by_cohort: dict[Any, dict[int, int]] = {}
    for cell in cells:
        by_cohort.setdefault(cell["cohort"], {})[int(cell["k"])] = int(cell["n_active"])
    rows = []
    for cohort in sorted(by_cohort):
        active = by_cohort[cohort]
        size = active.get(0, 0)
        series = [active.get(k, 0) for k in range(max(active) + 1)]
        rows.append(
            {
                "cohort": cohort.strftime("%Y-%m"),
                "n_accounts": size,
                "active": series,
                "retention": [n / size if size else None for n in series],
            }
        )
    reasons = {} if rows else {"cohorts": gettext_noop("No cohort in the period has completed its first month.")}
    return {"cohorts": rows, "reasons": reasons}
