"""Kaplan–Meier survival of accounts: pure arithmetic on a DataFrame of lifetimes (no database).

Each row is one account: `duration` (days from its first subscription start to its churn, or to the end of the
observation when it is still active — censored) and `event` (True when it churned). The estimator is the
product-limit one: at each distinct time t with d churns among the n accounts still at risk (duration ≥ t),
S(t) = S(t−) × (1 − d ÷ n). Accounts censored at t are still at risk at t (they leave after it), the usual
convention for ties between churns and censorings.
"""

from __future__ import annotations

import pandas as pd

CURVE_COLUMNS = ["time", "at_risk", "events", "censored", "survival"]


def kaplan_meier(lifetimes: pd.DataFrame) -> pd.DataFrame:
    """The Kaplan–Meier curve of `lifetimes` (columns duration, event, and optionally n: how many accounts the row
    stands for, 1 without it): one row per distinct duration.

    Returns columns time, at_risk, events, censored, survival (S just after time), ordered by time; empty when
    there is no lifetime. Negative durations are a caller's error (ValueError).
    """
    if lifetimes.empty:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    durations = lifetimes["duration"].astype(float)
    if (durations < 0).any():
        raise ValueError("A lifetime cannot be negative.")
    events = lifetimes["event"].astype(bool)
    weights = lifetimes["n"].astype(int) if "n" in lifetimes else pd.Series(1, index=lifetimes.index)
    table = (
        pd.DataFrame({"time": durations, "events": events * weights, "censored": (~events) * weights})
        .groupby("time", sort=True)
        .sum()
    )
    leaving = table["events"] + table["censored"]
    # At risk at t: everyone whose duration is t or more = all minus those who left strictly before t.
    table["at_risk"] = int(weights.sum()) - leaving.cumsum().shift(fill_value=0)
    table["survival"] = (1 - table["events"] / table["at_risk"]).cumprod()
    return table.reset_index()[CURVE_COLUMNS]


def median_lifetime(curve: pd.DataFrame) -> float | None:
    """The first time the survival falls to one half or below; None while it has not (too few churns)."""
    reached = curve[curve["survival"] <= 0.5]
    return None if reached.empty else float(reached["time"].iloc[0])


def survival_at(curve: pd.DataFrame, time: float) -> float:
    """S(time): the survival after the last step at or before `time` (1.0 before the first churn)."""
    steps = curve[curve["time"] <= time]
    return 1.0 if steps.empty else float(steps["survival"].iloc[-1])
