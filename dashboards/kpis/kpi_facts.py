"""The KPI facts, computed from per-account frames: sums per period and group, the same sums the live path adds.

Pure: frames in, rows out. `dashboards.services.kpi_facts_refresh` reads the frames and writes the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from dashboards.kpis.metrics import (
    ACTIVITY_SUMS,
    SUBSCRIPTION_SUMS,
    activity_metrics,
    cohort_activity,
    grouped_totals,
    period_account_metrics,
)
from dashboards.kpis.periods import month_start


def survey_cumulative(
    responses: pd.DataFrame,
    *,
    month_starts: Sequence[dt.date],
    group_of: pd.Series,
    n_groups: int,
    scores: Sequence[int],
) -> np.ndarray:
    """Responses per group and score before each month start: `cum[g, i, s]` counts months 0 … i−1.

    `responses`: columns account_id, month (a month start), score, n. The responses of [month i, month j) for a
    group are then `cum[g, j] − cum[g, i]`.
    """
    counts = np.zeros((n_groups, len(month_starts), len(scores)), dtype=np.int64)
    if not responses.empty:
        month_index = {day: i for i, day in enumerate(month_starts)}
        score_index = {score: i for i, score in enumerate(scores)}
        frame = responses.assign(
            g=responses["account_id"].map(group_of),
            m=responses["month"].map(month_index),
            s=responses["score"].map(score_index),
        ).dropna(subset=["g", "m", "s"])
        np.add.at(counts, (frame["g"].astype(int), frame["m"].astype(int), frame["s"].astype(int)), frame["n"])
    cumulative = np.zeros_like(counts)
    cumulative[:, 1:] = np.cumsum(counts, axis=1)[:, :-1]
    return cumulative


def period_fact_rows(
    *,
    month_starts: Sequence[dt.date],
    matrix: pd.DataFrame,
    firsts: pd.Series,
    activity: dict[str, pd.DataFrame],
    surveys: dict[str, np.ndarray],
    group_of: pd.Series,
    n_groups: int,
) -> Iterator[tuple[dt.date, dt.date, int, dict[str, int]]]:
    """(start, end, group, sums) for every pair of month starts and every group with something to count.

    `matrix`: MRR in cents per account and month start (NaN when inactive); `firsts`: first subscription start;
    `activity[w]`: per account and month start, an event in the window w before it; `surveys[kind]`: the
    cumulative counts of `survey_cumulative`; `group_of`: account id → group code.
    """
    sub_codes = group_of.reindex(matrix.index).to_numpy()
    for i, start in enumerate(month_starts):
        for j in range(i + 1, len(month_starts)):
            end = month_starts[j]
            sums: dict[str, np.ndarray] = {}
            if len(matrix):
                accounts, metrics = period_account_metrics(matrix, firsts, start, end)
                codes = pd.Series(sub_codes, index=matrix.index).reindex(accounts).to_numpy(dtype=np.int64)
                sums.update(grouped_totals(metrics, codes, n_groups))
            else:
                sums.update({name: np.zeros(n_groups, dtype=np.int64) for name in SUBSCRIPTION_SUMS})
            for window, flags in activity.items():
                if flags.empty:
                    totals = {name: np.zeros(n_groups, dtype=np.int64) for name in ACTIVITY_SUMS}
                else:
                    codes = group_of.reindex(flags.index).to_numpy(dtype=np.int64)
                    totals = grouped_totals(
                        activity_metrics(active_start=flags[start].to_numpy(), active_end=flags[end].to_numpy()),
                        codes,
                        n_groups,
                    )
                sums[f"act_{window}_start"] = totals["act_start"]
                sums[f"act_{window}_churn"] = totals["act_churn"]
            for kind, cumulative in surveys.items():
                in_period = cumulative[:, j] - cumulative[:, i]
                for s in range(in_period.shape[1]):
                    sums[f"{kind}_{s if kind == 'nps' else s + 1}"] = in_period[:, s]
            stacked = np.vstack(list(sums.values()))
            for group in np.flatnonzero(stacked.any(axis=0)):
                yield start, end, int(group), {name: int(values[group]) for name, values in sums.items()}


def cohort_fact_rows(
    subscriptions: pd.DataFrame, *, first_month: dt.date, cutoff: dt.date, group_of: pd.Series
) -> pd.DataFrame:
    """(cohort, k, group, n_active) of the cohorts from `first_month`, cells observable at `cutoff` (zeros kept)."""
    activity = cohort_activity(subscriptions, cutoff=cutoff, first_cohort=first_month)
    if activity.empty:
        return pd.DataFrame(columns=["cohort", "k", "group", "n_active"])
    activity = activity[activity["cohort"] >= first_month].assign(group=lambda f: f["account_id"].map(group_of))
    cells = activity.dropna(subset=["group"]).groupby(["cohort", "k", "group"], as_index=False)["active"].sum()
    return cells.rename(columns={"active": "n_active"}).astype({"group": int, "n_active": int})


def account_snapshot_rows(accounts: pd.DataFrame) -> list[dict]:
    """Accounts that have not churned per segment × plan × owner × health band: count, at risk, MRR in cents.

    `accounts`: columns segment, plan, owner_id (None when unassigned), health_band, status, mrr (Decimal).
    """
    live = accounts[accounts["status"] != "churned"]
    if live.empty:
        return []
    frame = pd.DataFrame(
        {
            "segment": live["segment"],
            "plan": live["plan"],
            "owner_id": [-1 if pk is None or pd.isna(pk) else int(pk) for pk in live["owner_id"]],
            "health_band": live["health_band"],
            "n_accounts": 1,
            "n_at_risk": ((live["status"] == "at_risk") | (live["health_band"] == "red")).astype("int64"),
            "mrr": (live["mrr"].astype(float) * 100).round().astype("int64"),
        }
    )
    groups = frame.groupby(["segment", "plan", "owner_id", "health_band"], as_index=False).sum()
    rows = groups.to_dict("records")
    for row in rows:
        row["owner_id"] = None if row["owner_id"] == -1 else int(row["owner_id"])
    return rows


def task_load_rows(tasks: pd.DataFrame, *, today: dt.date) -> list[dict]:
    """Open tasks per segment × plan of their account and assignee; overdue = due before `today`.

    `tasks`: columns segment, plan, assignee_id (None when unassigned), due_date (None when undated).
    """
    if tasks.empty:
        return []
    frame = pd.DataFrame(
        {
            "segment": tasks["segment"],
            "plan": tasks["plan"],
            "owner_id": [-1 if pk is None or pd.isna(pk) else int(pk) for pk in tasks["assignee_id"]],
            "open_tasks": 1,
            "overdue_tasks": [int(due is not None and not pd.isna(due) and due < today) for due in tasks["due_date"]],
        }
    )
    rows = frame.groupby(["segment", "plan", "owner_id"], as_index=False).sum().to_dict("records")
    for row in rows:
        row["owner_id"] = None if row["owner_id"] == -1 else int(row["owner_id"])
    return rows


def _month_of(values: pd.Series) -> pd.Series:
    """The first day of the month of each date or (UTC) datetime."""
    return values.map(lambda value: month_start(value.date() if isinstance(value, dt.datetime) else value))


def lifetime_fact_rows(lifetimes: pd.DataFrame, *, group_of: pd.Series) -> pd.DataFrame:
    """(cohort, group, duration, churned, n) of the lifetimes of `account_lifetimes` (columns account_id,
    first_start, duration, event): accounts per month of the first subscription start and lifetime."""
    columns = ["cohort", "group", "duration", "churned", "n"]
    if lifetimes.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "cohort": _month_of(lifetimes["first_start"]),
            "group": lifetimes["account_id"].map(group_of),
            "duration": lifetimes["duration"].astype(int),
            "churned": lifetimes["event"].astype(bool),
        }
    ).dropna(subset=["group"])
    counts = frame.groupby(["cohort", "group", "duration", "churned"], as_index=False).size()
    return counts.rename(columns={"size": "n"}).astype({"group": int, "n": int})[columns]


def onboarding_fact_rows(progress: pd.DataFrame) -> list[dict]:
    """Rows of `OnboardingFact` from onboarding progress (columns of `automations.selectors.onboarding_progress_frame`):
    per journey, signup month (UTC) and segment × plan, the accounts on the journey (no milestone); per milestone
    too, the accounts that reached it by whole days to reach it, and those that missed it (no days)."""
    if progress.empty:
        return []
    frame = progress.assign(cohort=_month_of(pd.to_datetime(progress["created_at"], utc=True)))
    keys = ["journey_id", "cohort", "segment", "plan"]

    def counted(rows: pd.DataFrame, by: list[str], name: str) -> list[dict]:
        return rows.groupby(by, as_index=False).size().rename(columns={"size": name}).to_dict("records")

    on_journey = counted(frame.drop_duplicates(["journey_id", "account_id"]), keys, "n_accounts")
    # Reached = this milestone or a later one; days only for the accounts that reached this one themselves.
    done = frame[frame["reached"]] if "reached" in frame else frame[frame["days"].notna()]
    reached = (
        done.groupby([*keys, "milestone_id", "days"], as_index=False, dropna=False)
        .size()
        .rename(columns={"size": "n_reached"})
        .to_dict("records")
    )
    missed = counted(frame[frame["missed"]], [*keys, "milestone_id"], "n_missed")
    rows = []
    for row in on_journey + reached + missed:
        milestone, days = row.get("milestone_id"), row.get("days")
        rows.append(
            {**row, "journey_id": int(row["journey_id"]), "milestone_id": None if milestone is None else int(milestone),
             "days": None if days is None or pd.isna(days) else int(days)}
        )  # fmt: skip
    return rows


def weighted_median(counts: Sequence[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many times): the middle one, or the mean of the two middle ones
    for an even count (what PostgreSQL's percentile_cont(0.5) gives). None without values."""
    ordered = sorted((value, n) for value, n in counts if n > 0)
    total = sum(n for _, n in ordered)
    if not total:
        return None
    low, high = (total - 1) // 2, total // 2  # 0-based positions of the middle value(s)
    seen, found = 0, {}
    for value, n in ordered:
        for position in (low, high):
            if position not in found and seen <= position < seen + n:
                found[position] = value
        seen += n
    return (found[low] + found[high]) / 2
