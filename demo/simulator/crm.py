"""What the CSMs see and do: each account's state on the end date (status, stage, tier, tags) and their
timeline entries and tasks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo.simulator.catalogue import (
    ACTIVITY_SUBJECTS,
    NEVER,
    REASONS,
    REGION_NOON_UTC,
)
from demo.simulator.world import World, alive_days, dates, instants, work_seconds


def account_state(
    rng: np.random.Generator,
    w: World,
    engagement: np.ndarray,
    accounts: pd.DataFrame,
    current: pd.DataFrame,
    last_seen: np.ndarray,
    surveys: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Status, lifecycle stage, tier, plan, renewal, last seen (`last_seen`: each account's latest product event,
    from `UsageEvents.last_seen`) and tags as they stand on the end date.

    At risk comes from what a CSM can see (usage well below the account's own norm, or a pause), never from the
    latent churn date.
    """
    n, days = len(w.signup), w.days
    ratio = engagement[:, max(days - 28, 0) :].mean(axis=1) / w.baseline
    churned = (w.churn <= days) & (w.react == NEVER)
    won_back = w.react < NEVER
    status = np.select(
        [churned, won_back, days - w.signup < 45, (ratio < 0.5) | (w.pause < NEVER)],
        ["churned", "won_back", "onboarding", "at_risk"],
        "active",
    ).astype(object)
    renewal = current["renewal"].to_numpy()
    nps = surveys[surveys["kind"] == "nps"].groupby("account")["score"].last().reindex(range(n), fill_value=0)
    stage = np.select(
        [
            churned,
            status == "onboarding",
            status == "at_risk",
            won_back & (days - w.react < 45),
            renewal - days <= 90,
            (nps.to_numpy() >= 9) & (ratio >= 0.9),
        ],
        ["churned", "onboarding", "at_risk", "onboarding", "renewal", "advocate"],
        "adopted",
    ).astype(object)
    mrr = current["mrr"].to_numpy()
    frame = accounts[["external_id", "name", "domain", "owner", "segment"]].copy()
    frame["tier"] = np.select([mrr >= 2000, mrr >= 300], ["gold", "silver"], "bronze").astype(object)
    frame["plan"] = current["plan"].to_numpy()
    frame["lifecycle_stage"] = stage
    frame["status"] = status
    frame["renewal_date"] = dates(w.start, renewal)
    frame["custom_attributes"] = accounts["custom_attributes"]
    frame["created_at"] = accounts["created_at"]
    frame["last_seen_at"] = last_seen

    enterprise = w.segment == 2
    top = np.quantile(mrr[enterprise], 0.75) if enterprise.any() else np.inf
    tagged = {
        "champion-left": w.dip_start < days,
        "upsell": (status == "active") & (ratio > 1.3),
        "beta": ~churned & (rng.random(n) < 0.06),
        "paused": w.pause < NEVER,
        "strategic": enterprise & (mrr >= top) & ~churned,
    }
    tags = pd.DataFrame(
        [(int(a), name) for name, mask in tagged.items() for a in np.flatnonzero(mask)], columns=["account", "tag"]
    )
    return frame, tags.sort_values(["account", "tag"], kind="stable").reset_index(drop=True)


def crm_work(
    rng: np.random.Generator, w: World, accounts: pd.DataFrame, current: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The CSMs' timeline entries (calls, notes, meetings, a cancellation call) and their tasks, open and done."""
    n, days = len(w.signup), w.days
    owner = accounts["owner"].to_numpy()
    life = np.minimum(w.churn, days) - w.signup + np.where(w.react < NEVER, days - w.react, 0)
    touch = np.repeat(np.arange(n), rng.poisson(np.array([0.3, 0.8, 1.6])[w.segment] * life / 30.44))
    kinds = np.array(list(ACTIVITY_SUBJECTS), dtype=object)
    kind = kinds[rng.choice(len(kinds), len(touch), p=[0.3, 0.2, 0.35, 0.15])]
    pick = rng.integers(0, 4, len(touch))
    subject = np.empty(len(touch), dtype=object)
    for name, texts in ACTIVITY_SUBJECTS.items():
        subject[kind == name] = np.array(texts, dtype=object)[pick[kind == name] % len(texts)]
    kickoff = np.flatnonzero((w.segment > 0) & (w.signup + 7 < days))
    canceled = np.flatnonzero(w.churn <= days)
    account = np.concatenate([touch, kickoff, canceled])
    day = np.concatenate(
        [
            alive_days(rng, w, touch),
            w.signup[kickoff] + rng.integers(2, 8, len(kickoff)),
            np.maximum(w.churn[canceled] - rng.integers(0, 10, len(canceled)), w.signup[canceled]),
        ]
    )
    reasons = np.array([r.replace("_", " ") for r in REASONS], dtype=object)[w.reason[canceled]]
    activities = pd.DataFrame(
        {
            "account": account,
            "kind": np.concatenate([kind, np.full(len(kickoff), "meeting"), np.full(len(canceled), "call")]),
            "author": owner[account],
            "subject": np.concatenate(
                [subject, np.full(len(kickoff), "Onboarding kickoff"), np.full(len(canceled), "Cancellation call")]
            ),  # fmt: skip
            "body": np.concatenate(
                [
                    np.full(len(touch), "Logged by the account owner."),
                    np.full(len(kickoff), "Agreed goals, owners and a go-live date."),
                    "Customer is cancelling. Main reason given: " + reasons + ".",
                ]
            ),
            "occurred_at": instants(w.start, day, work_seconds(rng, REGION_NOON_UTC[w.region[account]])),
        }
    ).sort_values(["occurred_at", "account"], kind="stable")

    status = accounts["status"].to_numpy()
    renewing = current["renewal"].to_numpy() - days <= 60
    at_risk = status == "at_risk"
    chance = 0.1 + 0.45 * at_risk + 0.4 * renewing
    open_ = np.flatnonzero(w.alive(days) & (rng.random(n) < chance))
    routine = rng.choice(["Quarterly check-in", "Review open tickets", "Share best practices"], len(open_))
    title = np.where(at_risk[open_], "Follow up on low usage", np.where(renewing[open_], "Prepare renewal", routine))
    due = days + rng.integers(-14, 22, len(open_))  # some overdue, most coming up
    done = np.repeat(np.arange(n), rng.poisson(0.12 * life / 30.44))
    done_day = alive_days(rng, w, done)
    completed = np.minimum(done_day + rng.integers(-3, 4, len(done)), days - 1)
    account = np.concatenate([open_, done])
    due_day = np.concatenate([due, done_day])
    tasks = pd.DataFrame(
        {
            "account": account,
            "assignee": owner[account],
            "created_by": owner[account],
            "title": np.concatenate(
                [
                    title,
                    rng.choice(
                        ["Send onboarding checklist", "Confirm renewal terms", "Review usage with champion"], len(done)
                    ),
                ]
            ),  # fmt: skip
            "description": "",
            "due_date": dates(w.start, due_day),
            "priority": np.concatenate(
                [
                    np.where(at_risk[open_], "high", np.where(renewing[open_], "normal", "low")),
                    np.full(len(done), "normal"),
                ]
            ),
            "status": np.concatenate([np.full(len(open_), "open"), np.full(len(done), "done")]),
            "source": "manual",
            "outcome": np.concatenate(
                [
                    np.full(len(open_), ""),
                    rng.choice(["Customer happy", "Left a voicemail", "Scheduled a QBR"], len(done)),
                ]
            ),
            "created_at": instants(
                w.start,
                np.minimum(due_day - rng.integers(5, 25, len(account)), days - 1),
                np.full(len(account), 9 * 3600),
            ),
            "completed_at": pd.concat(
                [
                    pd.Series(pd.NaT, index=range(len(open_)), dtype="datetime64[ns, UTC]"),
                    instants(w.start, completed, np.full(len(done), 15 * 3600)),
                ],
                ignore_index=True,
            ),  # fmt: skip
        }
    )
    return activities.reset_index(drop=True), tasks
