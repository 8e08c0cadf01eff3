"""Lifecycle KPIs: the survival curve's rows and summary, health band movement, engagement frequency, the
onboarding funnel and win-back results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext_noop

from dashboards.kpis.formulas._common import DAYS_PER_MONTH, Reasons, Row
from dashboards.kpis.survival import median_lifetime, survival_at

SURVIVAL_MONTHS = (3, 6, 12)


def survival_curve(curve: Any, *, observed_days: int) -> Row:
    """The Kaplan–Meier curve (`dashboards.kpis.survival.kaplan_meier`) as API rows, with its summary figures:
    the median lifetime and the survival 3, 6 and 12 months after the first subscription (null past the longest
    observation, `observed_days`)."""
    reasons = Reasons()
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
            reasons[key] = gettext_noop("No account started its first subscription in the period.")
        elif months * DAYS_PER_MONTH > min(longest, observed_days):
            summary[key] = None
            reasons[key] = f"No account was observed for {months} months yet."
        else:
            summary[key] = survival_at(curve, months * DAYS_PER_MONTH)
    median = median_lifetime(curve) if n else None
    if median is None:
        reasons["median_lifetime_months"] = (
            gettext_noop("Survival has not fallen to one half in the observed time.") if n else
            gettext_noop("No account started its first subscription in the period.")
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
        reasons["transitions"] = gettext_noop("No health snapshot in the period.")
    elif movement["from_day"] == movement["to_day"]:
        reasons["transitions"] = gettext_noop(
            "Health snapshots exist on one day of the period only: nothing to compare."
        )
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
        reasons["buckets"] = gettext_noop("No stored usage metrics in the period.")
    elif not n:
        reasons["buckets"] = gettext_noop("No account with usage metrics matches these filters.")
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
        reasons["journeys"] = gettext_noop("No onboarding journey is set up (Automations → Journeys).")
    elif not any(j["n_accounts"] for j in journeys):
        reasons["journeys"] = gettext_noop("No account that signed up in the period is on an onboarding journey.")
    return {"journeys": journeys, "n_accounts": sum(j["n_accounts"] for j in journeys), "reasons": reasons}


def winback_results(results: Mapping[str, Any]) -> Row:
    """Win-back: departures of the period and the share won back by its end; reactivations of the period and the
    MRR won back; per offer, contacted accounts and the reactivations attributed to it (conversion)."""
    reasons = Reasons()
    rate = reasons.ratio(
        "winback_rate", results["n_won_back"], results["n_churned"], gettext_noop("No account churned in the period.")
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
