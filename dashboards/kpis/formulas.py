"""The KPI formulas of DESIGN.md ("KPI definitions"), from sums to the keys the API answers.

Each function takes the sums of `dashboards.kpis.metrics` (money in cents) and returns a row: the KPI's keys plus
`reasons`, a message for every key that is null because its denominator is zero. Nothing here raises on empty data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Row = dict[str, Any]


def _money(cents: int) -> float:
    return round(cents / 100, 2)


class _Reasons(dict):
    def ratio(self, key: str, numerator: float, denominator: float, reason: str) -> float | None:
        if not denominator:
            self[key] = reason
            return None
        return numerator / denominator


def churn_rate(sums: Mapping[str, int]) -> Row:
    """Accounts active at S and not at E ÷ accounts active at S; retention = 1 − churn."""
    reasons = _Reasons()
    rate = reasons.ratio("churn_rate", sums["n_churn"], sums["n_start"], "No account was active at the start date.")
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
    reasons = _Reasons()
    lost = sums["churn_mrr"] + sums["downsell_mrr"]
    rate = reasons.ratio("mrr_churn_rate", lost, sums["start_mrr"], "There was no MRR at the start date.")
    return {
        "mrr_churn_rate": rate,
        "start_mrr": _money(sums["start_mrr"]),
        "churn_mrr": _money(sums["churn_mrr"]),
        "downsell_mrr": _money(sums["downsell_mrr"]),
        "n_start": sums["n_start"],
        "reasons": reasons,
    }


def net_retention(sums: Mapping[str, int]) -> Row:
    """NRR = MRR at E of the accounts active at S and E ÷ MRR at S; gross caps each account at its MRR(S)."""
    reasons = _Reasons()
    why = "There was no MRR at the start date."
    return {
        "net_retention_rate": reasons.ratio("net_retention_rate", sums["retained_mrr"], sums["start_mrr"], why),
        "gross_retention_rate": reasons.ratio(
            "gross_retention_rate", sums["gross_retained_mrr"], sums["start_mrr"], why
        ),
        "start_mrr": _money(sums["start_mrr"]),
        "retained_mrr": _money(sums["retained_mrr"]),
        "gross_retained_mrr": _money(sums["gross_retained_mrr"]),
        "reasons": reasons,
    }


def activity_churn(sums: Mapping[str, int]) -> Row:
    """Accounts with an event in (S−W, S] and none in (E−W, E] ÷ accounts with an event in (S−W, S]."""
    reasons = _Reasons()
    rate = reasons.ratio(
        "churn_rate", sums["act_churn"], sums["act_start"], "No account had an event in the window before the start."
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
        "start_mrr": _money(sums["start_mrr"]),
        "new_mrr": _money(sums["new_mrr"]),
        "expansion_mrr": _money(sums["expansion_mrr"]),
        "reactivation_mrr": _money(sums["reactivation_mrr"]),
        "contraction_mrr": _money(sums["downsell_mrr"]),
        "churned_mrr": _money(sums["churn_mrr"]),
        "end_mrr": _money(sums["end_mrr"]),
        "net_change_mrr": _money(sums["end_mrr"] - sums["start_mrr"]),
        "n_new": sums["n_new"],
        "n_expanded": sums["n_expanded"],
        "n_reactivated": sums["n_reactivated"],
        "n_contracted": sums["n_contracted"],
        "n_churned": sums["n_churn"],
        "reasons": {},
    }


def arpa(sums: Mapping[str, int]) -> Row:
    """MRR at E (sum of active MRR) and ARPA = MRR ÷ accounts active at E."""
    reasons = _Reasons()
    value = reasons.ratio("arpa", sums["end_mrr"], sums["n_end"], "No account was active at the end date.")
    return {
        "arpa": None if value is None else round(value / 100, 2),
        "mrr": _money(sums["end_mrr"]),
        "n_active": sums["n_end"],
        "reasons": reasons,
    }


def nps(counts: Sequence[int]) -> Row:
    """NPS = % promoters (9–10) − % detractors (0–6) of the responses; `counts[s]` = responses with score s."""
    reasons = _Reasons()
    n = sum(counts)
    promoters, passives, detractors = sum(counts[9:11]), sum(counts[7:9]), sum(counts[0:7])
    why = "No NPS response in the period."
    pct = {key: reasons.ratio(key, 100 * part, n, why) for key, part in
           (("pct_promoters", promoters), ("pct_passives", passives), ("pct_detractors", detractors))}  # fmt: skip
    return {
        "nps": reasons.ratio("nps", 100 * (promoters - detractors), n, why),
        "n_responses": n,
        "n_promoters": promoters,
        "n_passives": passives,
        "n_detractors": detractors,
        **pct,
        "distribution": list(counts),
        "reasons": reasons,
    }


def csat(counts: Sequence[int]) -> Row:
    """CSAT = satisfied responses (4–5 on 1–5) ÷ all responses × 100; `counts[i]` = responses with score i + 1."""
    reasons = _Reasons()
    n = sum(counts)
    satisfied = counts[3] + counts[4]
    return {
        "csat": reasons.ratio("csat", 100 * satisfied, n, "No CSAT response in the period."),
        "n_responses": n,
        "n_satisfied": satisfied,
        "distribution": list(counts),
        "reasons": reasons,
    }


def clv(months: Sequence[Mapping[str, int]], *, margin: float, cac: float | None) -> Row:
    """Subscription CLV = ARPA × gross margin ÷ monthly churn rate, over the months of the period.

    Monthly figures use consecutive month starts, pooled over the months: monthly churn = Σ churned ÷ Σ active
    at each month start; ARPA = Σ MRR at each month start ÷ Σ active at each month start. CLV:CAC divides by the
    CAC managers entered for those months.
    """
    reasons = _Reasons()
    n_start = sum(m["n_start"] for m in months)
    n_churn = sum(m["n_churn"] for m in months)
    start_mrr = sum(m["start_mrr"] for m in months)
    why_empty = "No account was active at any month start of the period."
    churn = reasons.ratio("monthly_churn_rate", n_churn, n_start, why_empty)
    arpa_cents = reasons.ratio("arpa", start_mrr, n_start, why_empty)
    value = None
    if arpa_cents is not None and churn is not None:
        value = reasons.ratio(
            "clv", arpa_cents / 100 * margin, churn, "No account churned in the period, so the lifetime is unbounded."
        )
    else:
        reasons["clv"] = why_empty
    ratio = None
    if cac is None:
        reasons["cac"] = "No CAC was entered for the months of the period."
        reasons["clv_cac_ratio"] = reasons["cac"]
    elif value is None:
        reasons["clv_cac_ratio"] = reasons["clv"]
    else:
        ratio = reasons.ratio("clv_cac_ratio", value, cac, "The CAC entered for the period is zero.")
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
    reasons = {} if rows else {"cohorts": "No cohort in the period has completed its first month."}
    return {"cohorts": rows, "reasons": reasons}


DAYS_PER_MONTH = 365.25 / 12  # a month of the purchase frequency and of lifetimes in months


def purchase_clv(sums: Mapping[str, int], months: Sequence[Mapping[str, int]], *, days: int) -> Row:
    """Purchase CLV = average purchase value × purchase frequency × average customer lifespan.

    `sums`: paid invoices of the period (n_purchases, revenue in cents, n_customers, n_repeat); `months`: the
    subscription sums of its months (for the lifespan); `days`: the period's length. Average purchase value =
    revenue ÷ purchases; frequency = purchases per customer per month (a month = 365.25 ÷ 12 days); lifespan =
    1 ÷ monthly logo churn (pooled over the month starts of the period, as the subscription CLV), in months.
    """
    reasons = _Reasons()
    why_none = "No paid invoice (a succeeded payment with an amount) in the period."
    apv_cents = reasons.ratio("average_purchase_value", sums["revenue"], sums["n_purchases"], why_none)
    per_customer = reasons.ratio("purchase_frequency", sums["n_purchases"], sums["n_customers"], why_none)
    frequency = None if per_customer is None else per_customer / (days / DAYS_PER_MONTH)
    n_start = sum(m["n_start"] for m in months)
    n_churn = sum(m["n_churn"] for m in months)
    churn = reasons.ratio("monthly_churn_rate", n_churn, n_start, "No account was active at any month start.")
    lifespan = None
    if churn is not None:
        lifespan = reasons.ratio(
            "average_lifespan_months", 1, churn, "No account churned in the period, so the lifespan is unbounded."
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
        "revenue": _money(sums["revenue"]),
        "n_purchases": sums["n_purchases"],
        "n_customers": sums["n_customers"],
        "reasons": reasons,
    }


def repeat_purchase_rate(sums: Mapping[str, int]) -> Row:
    """Customers with more than one paid invoice in the period ÷ customers with at least one."""
    reasons = _Reasons()
    rate = reasons.ratio(
        "repeat_purchase_rate", sums["n_repeat"], sums["n_customers"], "No paid invoice in the period."
    )
    return {
        "repeat_purchase_rate": rate,
        "n_customers": sums["n_customers"],
        "n_repeat": sums["n_repeat"],
        "n_purchases": sums["n_purchases"],
        "reasons": reasons,
    }


SURVIVAL_MONTHS = (3, 6, 12)


def survival_curve(curve: Any, *, observed_days: int) -> Row:
    """The Kaplan–Meier curve (`dashboards.kpis.survival.kaplan_meier`) as API rows, with its summary figures:
    the median lifetime and the survival 3, 6 and 12 months after the first subscription (null past the longest
    observation, `observed_days`)."""
    from dashboards.kpis.survival import median_lifetime, survival_at

    reasons = _Reasons()
    points = [
        {"day": int(row.time), "month": round(row.time / DAYS_PER_MONTH, 2), "at_risk": int(row.at_risk),
         "events": int(row.events), "censored": int(row.censored), "survival": float(row.survival)}
        for row in curve.itertuples()
    ]  # fmt: skip
    n = int(curve["events"].sum() + curve["censored"].sum()) if len(curve) else 0
    longest = int(curve["time"].max()) if len(curve) else 0
    summary: dict[str, float | None] = {}
    for months in SURVIVAL_MONTHS:
        key = f"survival_{months}m"
        if not n:
            summary[key] = None
            reasons[key] = "No account started its first subscription in the period."
        elif months * DAYS_PER_MONTH > min(longest, observed_days):
            summary[key] = None
            reasons[key] = f"No account was observed for {months} months yet."
        else:
            summary[key] = survival_at(curve, months * DAYS_PER_MONTH)
    median = median_lifetime(curve) if n else None
    if median is None:
        reasons["median_lifetime_months"] = (
            "Survival has not fallen to one half in the observed time." if n else
            "No account started its first subscription in the period."
        )  # fmt: skip
    return {
        "n_accounts": n,
        "n_churned": int(curve["events"].sum()) if n else 0,
        "n_censored": int(curve["censored"].sum()) if n else 0,
        "median_lifetime_months": None if median is None else round(median / DAYS_PER_MONTH, 2),
        **summary,
        "curve": points,
        "reasons": reasons,
    }


BANDS = ("green", "yellow", "red", "")
BAND_RANK = {"red": 0, "yellow": 1, "green": 2}


def band_movement(movement: Mapping[str, Any]) -> Row:
    """Transition matrix of health bands from the first to the last snapshot day of the period.

    `movement`: from_day, to_day and rows (from_band, to_band, n), "" = not scored or no snapshot that day.
    Improved / worsened count accounts scored on both days whose band went up / down (red < yellow < green).
    """
    counts = {(r["from_band"], r["to_band"]): int(r["n"]) for r in movement["transitions"]}
    matrix = [
        {"from_band": a or "unscored", "to_band": b or "unscored", "n": counts.get((a, b), 0)}
        for a in BANDS
        for b in BANDS
    ]
    ranked = [(BAND_RANK[a], BAND_RANK[b], n) for (a, b), n in counts.items() if a in BAND_RANK and b in BAND_RANK]
    reasons = {}
    if movement["from_day"] is None:
        reasons["transitions"] = "No health snapshot in the period."
    elif movement["from_day"] == movement["to_day"]:
        reasons["transitions"] = "Health snapshots exist on one day of the period only: nothing to compare."
    return {
        "from_day": movement["from_day"],
        "to_day": movement["to_day"],
        "n_accounts": sum(counts.values()),
        "n_improved": sum(n for a, b, n in ranked if b > a),
        "n_worsened": sum(n for a, b, n in ranked if b < a),
        "n_unchanged": sum(n for a, b, n in ranked if b == a),
        "transitions": matrix if not reasons else [],
        "reasons": reasons,
    }


def engagement_frequency(engagement: Mapping[str, Any], buckets: Sequence[tuple[int, int]]) -> Row:
    """Accounts per bucket of active days (days with a meaningful event in the 30 days up to `day`), with each
    bucket's share of the accounts with metrics that day."""
    counts = [int(c) for c in engagement["counts"]]
    n = sum(counts)
    reasons = {}
    if engagement["day"] is None:
        reasons["buckets"] = "No stored usage metrics in the period."
    elif not n:
        reasons["buckets"] = "No account with usage metrics matches these filters."
    rows = [
        {"bucket": str(low) if low == high else f"{low}-{high}", "min_days": low, "max_days": high, "n_accounts": c,
         "share": c / n if n else None}
        for (low, high), c in zip(buckets, counts, strict=True)
    ]  # fmt: skip
    average = engagement["average"]
    return {
        "day": engagement["day"],
        "n_accounts": n,
        "average_active_days": None if average is None else round(float(average), 2),
        "buckets": rows,
        "reasons": reasons,
    }


def onboarding_funnel(funnels: Sequence[Mapping[str, Any]]) -> Row:
    """Per onboarding journey: accounts of the period's signups on it, and per milestone reached, missed, share
    of those accounts that reached it and median days to reach it (the automations app's funnel)."""
    journeys = []
    for item in funnels:
        journey, funnel = item["journey"], item["funnel"]
        journeys.append(
            {
                "journey": journey.name,
                "key": journey.key,
                "n_accounts": funnel["accounts"],
                "time_to_first_value_days": funnel["time_to_first_value"],
                "stall": funnel["stall"]["milestone"].name if funnel["stall"] else None,
                "steps": [
                    {"milestone_id": s["milestone"].pk, "milestone": s["milestone"].name, "reached": s["reached"],
                     "missed": s["missed"], "share": s["share"] if funnel["accounts"] else None,
                     "median_days": s["median_days"]}
                    for s in funnel["steps"]
                ],
            }
        )  # fmt: skip
    reasons = {}
    if not journeys:
        reasons["journeys"] = "No onboarding journey is set up (Automations → Journeys)."
    elif not any(j["n_accounts"] for j in journeys):
        reasons["journeys"] = "No account that signed up in the period is on an onboarding journey."
    return {"journeys": journeys, "n_accounts": sum(j["n_accounts"] for j in journeys), "reasons": reasons}


def winback_results(results: Mapping[str, Any]) -> Row:
    """Win-back: departures of the period and the share won back by its end; reactivations of the period and the
    MRR won back; per offer, contacted accounts and the reactivations attributed to it (conversion)."""
    reasons = _Reasons()
    rate = reasons.ratio(
        "winback_rate", results["n_won_back"], results["n_churned"], "No account churned in the period."
    )
    offers = []
    for o in results["offers"]:
        offers.append(
            {"offer": o["offer"], "label": o["label"], "contacted": o["contacted"], "reactivated": o["reactivated"],
             "conversion_rate": o["reactivated"] / o["contacted"] if o["contacted"] else None,
             "mrr_won_back": float(o["mrr_won_back"])}
        )  # fmt: skip
    return {
        "n_churned": results["n_churned"],
        "churned_mrr": float(results["churned_mrr"]),
        "n_won_back": results["n_won_back"],
        "winback_rate": rate,
        "n_reactivated": results["n_reactivated"],
        "mrr_won_back": float(results["mrr_won_back"]),
        "offers": offers,
        "reasons": reasons,
    }
