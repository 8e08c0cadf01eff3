"""The replay of a rule's matches with its cooldown, the churns it is judged against, and the figures: precision,
recall, lift against the base churn rate, and the CSM load (tasks and emails per week) its actions would have made.

Churn follows the subscriptions, as the churn KPIs and the accounts snapshot read them: an account churns on the
day its last active subscription ends with no other one active (the end of each covered stretch)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from automations.backtest.grid import NEVER, Grid
from automations.models import Playbook

HORIZON_DAYS = 90


def replay_cooldown(matches: np.ndarray, cooldown_days: int) -> np.ndarray:
    """Fires: a matching account fires unless it fired fewer than `cooldown_days` days before. One vector step per
    day over every account."""
    fires = np.zeros_like(matches, dtype=bool)
    allowed_from = np.full(matches.shape[0], -NEVER, dtype=np.int64)
    for day in range(matches.shape[1]):
        fire = matches[:, day] & (allowed_from <= day)
        fires[:, day] = fire
        allowed_from[fire] = day + max(cooldown_days, 1)
    return fires


def churn_days(grid: Grid, subs: pd.DataFrame) -> pd.DataFrame:
    """(account_id, at) of every churn: the end of each stretch of days covered by subscriptions."""
    if subs.empty:
        return pd.DataFrame({"account_id": [], "at": []})
    subs = subs.sort_values(["account_id", "first"], kind="stable")
    reach = subs.groupby("account_id")["stop"].cummax()
    before = reach.groupby(subs["account_id"]).shift(1)
    stretch = (before.isna() | (subs["first"] > before)).cumsum()
    ends = pd.DataFrame({"account_id": subs["account_id"], "end": reach}).groupby(stretch.to_numpy()).last()
    ends = ends[ends["end"] < NEVER]
    return pd.DataFrame({"account_id": ends["account_id"].to_numpy(), "at": ends["end"].to_numpy(dtype=np.int64)})


def scores(grid: Grid, fires: np.ndarray, churns: pd.DataFrame, *, alive: np.ndarray) -> dict:
    """Precision, recall and lift.

    A fire is a hit when the account churned within 90 days after it. Precision and the base rate are read on the
    days with 90 days of hindsight (up to the window's end − 90 days): precision = hits ÷ fires there; base rate =
    the same chance for any account on any such day it had not churned (`alive`); lift = precision ÷ base rate.
    Recall: accounts that churned in the window with a fire in the 90 days before ÷ accounts that churned in it.
    """
    in_window = churns[(churns["at"] >= 0) & (churns["at"] < grid.n_days)]
    at = in_window["account_id"].to_numpy(), in_window["at"].to_numpy()
    caught = grid.from_intervals(at[0], at[1] - HORIZON_DAYS, at[1])  # days from which a churn is ≤ 90 days ahead
    hindsight = np.arange(grid.n_days) < grid.n_days - HORIZON_DAYS
    fires_seen = fires[:, hindsight]
    hit_fires = fires & caught
    n_seen = int(fires_seen.sum())
    precision = int(hit_fires[:, hindsight].sum()) / n_seen if n_seen else None
    alive_seen = alive[:, hindsight]
    base = float(caught[:, hindsight][alive_seen].mean()) if alive_seen.any() else None
    population = alive.any(axis=1)
    hits = hit_fires.any(axis=1)
    fired = fires.any(axis=1)
    churned = np.isin(grid.account_ids, at[0]) & population
    n_churned, quiet = int(churned.sum()), population & ~fired
    return {
        "accounts": int(population.sum()),
        "accounts_fired": int(fired.sum()),
        "fires": int(fires.sum()),
        "fires_with_hindsight": n_seen,
        "fires_followed_by_churn": int(hit_fires[:, hindsight].sum()),
        "fired_and_churned": int(hits.sum()),
        "churned": n_churned,
        "churned_caught": int((hits & churned).sum()),
        "precision": precision,
        "recall": int((hits & churned).sum()) / n_churned if n_churned else None,
        "base_rate": base,
        "lift": precision / base if precision is not None and base else None,
        "not_fired_churn_rate": int((churned & quiet).sum()) / int(quiet.sum()) if quiet.any() else None,
        "hit_rows": hits,
    }


def action_load(actions: list) -> list[tuple[int, str]]:
    """(day offset, "task" | "email") of what one fire creates: its task and email actions, and the task and email
    steps of the playbooks it enrols into (after their waits; a branch may stop an enrolment early, counted in)."""
    made: list[tuple[int, str]] = []
    keys = [a.get("playbook") for a in actions if isinstance(a, dict) and a.get("type") == "enrol_playbook"]
    steps = {p.key: list(p.steps.order_by("order")) for p in Playbook.objects.filter(key__in=keys)}
    for action in actions:
        kind = action.get("type") if isinstance(action, dict) else None
        if kind == "create_task":
            made.append((0, "task"))
        elif kind == "send_email":
            made.append((0, "email"))
        elif kind == "enrol_playbook":
            offset = 0
            for step in steps.get(action.get("playbook"), []):
                if step.kind == "wait":
                    offset += int((step.config or {}).get("days") or 0)
                elif step.kind in ("task", "email"):
                    made.append((offset, step.kind))
    return made


def weekly_load(grid: Grid, fires: np.ndarray, actions: list) -> list[dict]:
    """Tasks and emails per week (weeks starting on Monday) over the window."""
    per_day = fires.sum(axis=0).astype(np.int64)
    tasks = np.zeros(grid.n_days, dtype=np.int64)
    emails = np.zeros(grid.n_days, dtype=np.int64)
    for offset, kind in action_load(actions):  # a few actions per rule
        target = tasks if kind == "task" else emails
        if offset < grid.n_days:
            target[offset:] += per_day[: grid.n_days - offset]
    first_monday = grid.start - dt.timedelta(days=grid.start.weekday())
    week = (np.arange(grid.n_days) + (grid.start - first_monday).days) // 7
    frame = pd.DataFrame({"week": week, "tasks": tasks, "emails": emails}).groupby("week", as_index=False).sum()
    return [
        {"week": first_monday + dt.timedelta(weeks=int(w)), "tasks": int(t), "emails": int(e)}
        for w, t, e in frame.itertuples(index=False)
    ]
