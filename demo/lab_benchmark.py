"""Benchmark of the churn model lab on simulated histories: facts straight from the simulator's frames (folded
per account, day and event type as the daily rollups would hold them), observations, rolling-origin backtests.

No database: `manage.py churn_lab_benchmark` runs it for several seeds and churn mechanisms and prints, per
cutoff, every candidate's AUC, top-decile lift, Brier and ECE against the baseline, with the targets.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd

from demo.simulator import SimulatedData, simulate
from health import conf, lab
from health.features.inputs import Facts
from health.features.observations import build_observations, month_starts

TARGET_AUC_MARGIN = 0.03
TARGET_LIFT = 1.5
TARGET_ECE = 0.05


def facts_from_simulation(data: SimulatedData) -> Facts:
    """The simulated frames as `Facts` (account ids are the simulator's row positions)."""
    events = data.events
    frame = pd.DataFrame(
        {"account_id": events["account"].to_numpy(), "day": events["occurred_at"].dt.tz_convert("UTC").dt.date,
         "event_type": events["event_type"].to_numpy(), "user": events["user_id"].to_numpy()}
    )  # fmt: skip
    daily = frame.groupby(["account_id", "day", "event_type"], as_index=False).size().rename(columns={"size": "n"})
    activity = frame[~frame["event_type"].isin(conf.get("NON_ACTIVITY_EVENTS"))]
    activity = (
        activity.groupby(["account_id", "day"])
        .agg(events=("user", "size"), active_users=("user", "nunique"))
        .reset_index()
    )
    subs = data.subscriptions.rename(columns={"account": "account_id"})[
        ["account_id", "product", "start_date", "end_date", "mrr", "quantity", "billing_period"]
    ]
    tickets = pd.DataFrame(
        {"account_id": data.tickets["account"], "day": pd.to_datetime(data.tickets["opened_at"], utc=True).dt.date}
    )
    surveys = pd.DataFrame(
        {"account_id": data.surveys["account"], "kind": data.surveys["kind"], "score": data.surveys["score"],
         "day": pd.to_datetime(data.surveys["responded_at"], utc=True).dt.date}
    )  # fmt: skip
    accounts = pd.DataFrame(
        {"account_id": np.arange(len(data.accounts)),
         "created_day": pd.to_datetime(data.accounts["created_at"], utc=True).dt.date}
    )  # fmt: skip
    return Facts(daily, activity, subs, tickets, surveys, accounts)


def run_scenario(
    *,
    seed: int,
    mechanism: str,
    accounts: int,
    months: int,
    end: dt.date,
    horizon_days: int,
    cutoffs: int,
    test_months: int,
) -> dict:
    """Simulate one history and backtest every candidate on it; the targets checked per cutoff."""
    started = time.perf_counter()
    data = simulate(accounts=accounts, months=months, seed=seed, end_date=end, mechanism=mechanism)
    facts = facts_from_simulation(data)
    ratios = [tuple(p) for p in conf.get("CHURN_RATIO_PAIRS")]
    frame, names = build_observations(
        facts, obs_dates=month_starts(data.subscriptions["start_date"].min(), end), today=end,
        horizons=(horizon_days,), ratios=ratios,
    )  # fmt: skip
    report = lab.backtest(frame, horizon_days=horizon_days, names=names, count=cutoffs, test_months=test_months)
    label = f"label_{horizon_days}"
    rows = lab.labelled(frame, label)
    winner = report["winner"]
    model = lab.fit(winner, rows, label=label, names=names, horizon_days=horizon_days)
    sample = rows.sample(min(len(rows), 400), random_state=0)
    report.update(
        seed=seed, mechanism=mechanism, events=len(data.events), observations=len(rows),
        signal=model.signal(sample, top=6), seconds=time.perf_counter() - started,
        verdict=verdict(report["table"], winner),
    )  # fmt: skip
    return report


def verdict(table: list[dict], winner: str) -> dict:
    """The targets at every cutoff with at least 20 test churns: AUC ≥ baseline + 0.03, top-decile lift ≥ 1.5,
    ECE ≤ 0.05 (for the winner)."""
    base = {r["cutoff"]: r for r in table if r["candidate"] == lab.BASELINE}
    counted = [r for r in table if r["candidate"] == winner and r.get("auc") is not None
               and r["churns"] >= lab.ENOUGH_TEST_CHURNS]  # fmt: skip

    def ok(check) -> bool | None:
        return all(check(r) for r in counted) if counted else None

    return {
        "cutoffs_counted": len(counted),
        "auc": ok(
            lambda r: (
                base[r["cutoff"]].get("auc") is not None and r["auc"] >= base[r["cutoff"]]["auc"] + TARGET_AUC_MARGIN
            )
        ),  # fmt: skip
        "lift": ok(lambda r: r["lift"] >= TARGET_LIFT),
        "ece": ok(lambda r: r["ece"] <= TARGET_ECE),
    }
