"""The feature catalogue: which event types get their own metrics, and the name a CSM understands for each
feature (the drivers' labels)."""

from __future__ import annotations

from health.features.inputs import Facts


def event_types(facts: Facts, *, configured: tuple[str, ...] | None = None, limit: int = 40) -> list[str]:
    """The event types that get their own metrics: the configured ones, else the `limit` most frequent."""
    if configured:
        return list(configured)
    if facts.daily.empty:
        return []
    totals = facts.daily.groupby("event_type")["n"].sum().sort_values(ascending=False, kind="stable")
    return [str(t) for t in totals.index[:limit]]


def catalogue(types: list[str], ratios: list[tuple[str, str]]) -> dict[str, str]:
    """{feature: name a CSM understands}, in the order the columns are built."""
    names: dict[str, str] = {}
    for t in types:
        label = t.replace("_", " ")
        names[f"n28:{t}"] = f"{label} (28 days)"
        names[f"pu28:{t}"] = f"{label} per active user-day"
        names[f"pm28:{t}"] = f"{label} per $100 MRR"
        names[f"chg:{t}"] = f"change in {label} vs 3 months ago"
        names[f"since:{t}"] = f"days since last {label}"
    for a, b in ratios:
        names[f"ratio:{a}/{b}"] = f"{a.replace('_', ' ')} per {b.replace('_', ' ')}"
    names.update(
        {
            "active_days_28": "active days (28 days)",
            "chg_active_days": "change in active days vs 3 months ago",
            "events_28": "events (28 days)",
            "user_days_28": "active user-days (28 days)",
            "user_days_per_seat": "active user-days per seat (28 days)",
            "events_per_seat": "events per seat (28 days)",
            "chg_user_days": "change in active user-days vs 3 months ago",
            "since_active": "days since last activity",
            "tenure_days": "tenure (days)",
            "mrr": "MRR",
            "mrr_chg_90": "MRR change in 90 days",
            "seats": "seats",
            "seats_chg_90": "seat change in 90 days",
            "billing_period": "billing term (months)",
            "days_to_renewal": "days to renewal",
            "tickets_28": "tickets (28 days)",
            "tickets_90": "tickets (90 days)",
            "nps": "latest NPS score",
            "csat": "latest CSAT score",
        }
    )
    return names


# Features the lab derives for a horizon (`health.lab.with_horizon_features`), not columns of the observations.
HORIZON_FEATURES = {"renewal_due": "renewal within the horizon"}


def label_of(feature: str, names: dict[str, str]) -> str:
    if feature in names:
        return names[feature]
    if feature in HORIZON_FEATURES:
        return HORIZON_FEATURES[feature]
    if feature.startswith("plan="):
        return f"plan is {feature.removeprefix('plan=')}"
    return feature.replace("_", " ")
