"""Per-account metrics of one period, as numpy arrays aligned on an account index, and their sums.

Every KPI of DESIGN.md is a ratio of sums over accounts, so the live path (one filtered population) and the
precomputed facts (sums per segment × owner × plan) use the same arrays and only differ in how they add them up.
Money is in integer cents so sums are exact and both paths give identical numbers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

SUBSCRIPTION_SUMS = (
    "n_start",
    "n_end",
    "n_churn",
    "n_retained",
    "n_new",
    "n_reactivated",
    "n_expanded",
    "n_contracted",
    "start_mrr",
    "end_mrr",
    "churn_mrr",
    "downsell_mrr",
    "expansion_mrr",
    "retained_mrr",
    "gross_retained_mrr",
    "new_mrr",
    "reactivation_mrr",
)
ACTIVITY_SUMS = ("act_start", "act_churn")
NPS_SCORES = tuple(range(11))
CSAT_SCORES = tuple(range(1, 6))


def subscription_metrics(
    *,
    active_start: np.ndarray,
    mrr_start: np.ndarray,
    active_end: np.ndarray,
    mrr_end: np.ndarray,
    started_before: np.ndarray,
) -> dict[str, np.ndarray]:
    """What each account contributes to the subscription KPIs of the period [S, E].

    `active_*`: active at S / at E (a subscription with start_date <= D and end_date null or > D);
    `mrr_*`: its MRR in cents at S / at E (0 when inactive); `started_before`: it held a subscription that started
    before S, so an account inactive at S and active at E is reactivated rather than new.
    """
    a_s = np.asarray(active_start, dtype=bool)
    a_e = np.asarray(active_end, dtype=bool)
    m_s = np.where(a_s, np.asarray(mrr_start, dtype=np.int64), 0)
    m_e = np.where(a_e, np.asarray(mrr_end, dtype=np.int64), 0)
    before = np.asarray(started_before, dtype=bool)
    churned = a_s & ~a_e
    retained = a_s & a_e
    expanded = retained & (m_e > m_s)
    contracted = retained & (m_e < m_s)
    arrived = ~a_s & a_e
    new = arrived & ~before
    reactivated = arrived & before
    as_int = lambda mask: mask.astype(np.int64)  # noqa: E731
    return {
        "n_start": as_int(a_s),
        "n_end": as_int(a_e),
        "n_churn": as_int(churned),
        "n_retained": as_int(retained),
        "n_new": as_int(new),
        "n_reactivated": as_int(reactivated),
        "n_expanded": as_int(expanded),
        "n_contracted": as_int(contracted),
        "start_mrr": m_s,
        "end_mrr": m_e,
        "churn_mrr": np.where(churned, m_s, 0),
        "downsell_mrr": np.where(contracted, m_s - m_e, 0),
        "expansion_mrr": np.where(expanded, m_e - m_s, 0),
        "retained_mrr": np.where(retained, m_e, 0),
        "gross_retained_mrr": np.where(retained, np.minimum(m_s, m_e), 0),
        "new_mrr": np.where(new, m_e, 0),
        "reactivation_mrr": np.where(reactivated, m_e, 0),
    }


def period_account_metrics(
    matrix: pd.DataFrame, firsts: pd.Series, start: dt.date, end: dt.date
) -> tuple[pd.Index, dict[str, np.ndarray]]:
    """Per-account metrics of [start, end] from the MRR matrix (accounts active at start or end only)."""
    at_start, at_end = matrix[start], matrix[end]
    accounts = matrix.index[at_start.notna() | at_end.notna()]
    s, e = at_start.reindex(accounts), at_end.reindex(accounts)
    started_before = (pd.to_datetime(firsts.reindex(accounts)) < pd.Timestamp(start)).to_numpy()
    metrics = subscription_metrics(
        active_start=s.notna().to_numpy(),
        mrr_start=s.fillna(0).to_numpy(dtype=np.int64),
        active_end=e.notna().to_numpy(),
        mrr_end=e.fillna(0).to_numpy(dtype=np.int64),
        started_before=started_before,
    )
    return accounts, metrics


def activity_metrics(*, active_start: np.ndarray, active_end: np.ndarray) -> dict[str, np.ndarray]:
    """Activity churn: accounts with an event in (S−W, S], and those of them with none in (E−W, E]."""
    a_s = np.asarray(active_start, dtype=bool)
    a_e = np.asarray(active_end, dtype=bool)
    return {"act_start": a_s.astype(np.int64), "act_churn": (a_s & ~a_e).astype(np.int64)}


def total(metrics: dict[str, np.ndarray]) -> dict[str, int]:
    return {name: int(values.sum()) for name, values in metrics.items()}


def grouped_totals(metrics: dict[str, np.ndarray], codes: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    """Sums per group code (0 … n_groups−1), one vectorised pass per metric."""
    return {
        name: np.bincount(codes, weights=values, minlength=n_groups).round().astype(np.int64)
        for name, values in metrics.items()
    }


MAX_COHORT_MONTHS = 60  # cells up to five years after the first subscription


def cohort_activity(
    subscriptions: pd.DataFrame, *, cutoff: dt.date, first_cohort: dt.date | None = None
) -> pd.DataFrame:
    """Per account and k: was the account active k months after its first subscription started?

    `subscriptions`: columns account_id, start_date, end_date (None/NaT while open). An account's cohort is the
    month of its first subscription; it is active k months later when a subscription is active at
    first_start + k months (clamped to the month's end). Only cells every cohort member has reached by `cutoff`
    are returned: (cohort, k) is observable when the cohort month's last day + k months <= cutoff; k stops at
    MAX_COHORT_MONTHS. Cohorts before `first_cohort` (a month start) are left out before any work is done on them.
    Returns columns account_id, cohort (date), k, active (bool).
    """
    columns = ["account_id", "cohort", "k", "active"]
    if subscriptions.empty:
        return pd.DataFrame(columns=columns)
    subs = subscriptions[["account_id", "start_date", "end_date"]].copy()
    subs["start_date"] = pd.to_datetime(subs["start_date"])
    subs["end_date"] = pd.to_datetime(subs["end_date"])
    first = subs.groupby("account_id", as_index=False)["start_date"].min().rename(columns={"start_date": "first"})
    first["cohort"] = first["first"].dt.to_period("M").dt.to_timestamp()
    if first_cohort is not None:
        first = first[first["cohort"] >= pd.Timestamp(first_cohort)]
    cutoff_ts = pd.Timestamp(cutoff)

    # The last k each cohort has fully reached: month_end(cohort) + k months <= cutoff.
    last_k: dict[pd.Timestamp, int] = {}
    for cohort in first["cohort"].unique():
        last_day = pd.Timestamp(cohort) + pd.offsets.MonthEnd(0)
        k = -1
        while k < MAX_COHORT_MONTHS and last_day + pd.DateOffset(months=k + 1) <= cutoff_ts:
            k += 1
        last_k[pd.Timestamp(cohort)] = k
    first["last_k"] = first["cohort"].map(last_k)
    first = first[first["last_k"] >= 0]
    if first.empty:
        return pd.DataFrame(columns=columns)

    cells = []
    for k in range(int(first["last_k"].max()) + 1):
        reached = first[first["last_k"] >= k]
        cells.append(
            pd.DataFrame(
                {
                    "account_id": reached["account_id"].to_numpy(),
                    "cohort": reached["cohort"].to_numpy(),
                    "k": k,
                    "at": (reached["first"] + pd.DateOffset(months=k)).to_numpy(),
                }
            )
        )
    grid = pd.concat(cells, ignore_index=True)
    joined = grid.merge(subs, on="account_id")
    joined["active"] = (joined["start_date"] <= joined["at"]) & (
        joined["end_date"].isna() | (joined["end_date"] > joined["at"])
    )
    active = joined.groupby(["account_id", "k"], as_index=False)["active"].any()
    result = grid.merge(active, on=["account_id", "k"])[["account_id", "cohort", "k", "active"]]
    result["cohort"] = result["cohort"].dt.date
    return result
