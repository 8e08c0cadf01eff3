"""Support tickets (a trickle, and a cluster before churn) and survey answers (quarterly NPS, CSAT after tickets)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo.simulator.catalogue import (
    COMMENTS,
    NEGATIVE_THEMES,
    NEVER,
    R_CLOSED,
    R_ONBOARDING,
    R_PAYMENT,
    REASON_THEME,
    REASON_TOPIC,
    REGION_NOON_UTC,
    TICKET_SUBJECTS,
    TICKET_TOPICS,
)
from demo.simulator.world import World, alive_days, instants, work_seconds


def tickets(rng: np.random.Generator, w: World) -> pd.DataFrame:
    """Support tickets: a steady trickle per account, and a cluster in the weeks before churn."""
    n = len(w.signup)
    life = np.minimum(w.churn, w.days) - w.signup + np.where(w.react < NEVER, w.days - w.react, 0)
    base = np.repeat(np.arange(n), rng.poisson(0.01 * np.array([1.0, 1.6, 2.5])[w.segment] * life))
    churners = np.flatnonzero(w.churn < NEVER)
    mu = np.where(np.isin(w.reason[churners], [1, 2, 3, 5, R_ONBOARDING]), 2.5, 1.2)
    mu = np.where(np.isin(w.reason[churners], [R_CLOSED, R_PAYMENT]), 0.6, mu)
    spread = 15
    if w.mechanism == "ticket_storm":
        mu, spread = np.full(len(churners), 5.0), 25
    elif w.mechanism != "default":
        mu = mu * 0.2
    late = np.repeat(churners, rng.poisson(mu))
    late_day = w.churn[late] - 1 - rng.exponential(spread, len(late)).astype(np.int64)
    keep = (late_day >= w.signup[late]) & (late_day < w.days)
    late, late_day = late[keep], late_day[keep]

    account = np.concatenate([base, late])
    day = np.concatenate([alive_days(rng, w, base), late_day])
    troubled = np.arange(len(account)) >= len(base)
    topic_index = rng.choice(len(TICKET_TOPICS), len(account), p=[0.2, 0.25, 0.12, 0.13, 0.12, 0.08, 0.1])
    reason_topic = np.array([TICKET_TOPICS.index(topic) for topic in REASON_TOPIC])[w.reason[account]]
    topic_index = np.where(troubled & (rng.random(len(account)) < 0.6), reason_topic, topic_index)
    subject = np.empty(len(account), dtype=object)
    pick = rng.integers(0, 3, len(account))
    for t, topic in enumerate(TICKET_TOPICS):
        subject[topic_index == t] = np.array(TICKET_SUBJECTS[topic], dtype=object)[pick[topic_index == t]]
    priorities = np.array(["low", "normal", "high", "urgent"], dtype=object)
    priority = np.where(
        troubled,
        priorities[rng.choice(4, len(account), p=[0.1, 0.4, 0.35, 0.15])],
        priorities[rng.choice(4, len(account), p=[0.25, 0.55, 0.15, 0.05])],
    )
    opened = instants(w.start, day, work_seconds(rng, REGION_NOON_UTC[w.region[account]]))
    # Most tickets close within a day; trouble takes longer, and a few get stuck waiting on the customer.
    hours = rng.lognormal(np.log(18), 1.1, len(account)) * np.where(troubled, 2.5, 1.0)
    hours *= np.where(rng.random(len(account)) < 0.04, 20, 1)
    resolved = opened + pd.to_timedelta(np.round(hours * 3600), unit="s")
    now = pd.Timestamp(w.start, tz="UTC") + pd.Timedelta(days=w.days)
    unresolved = (resolved >= now).to_numpy()
    status = np.where(resolved < now - pd.Timedelta(days=7), "closed", "resolved").astype(object)
    status[unresolved] = np.where((now - opened[unresolved]) < pd.Timedelta(days=2), "open", "pending")
    frame = pd.DataFrame(
        {
            "account": account,
            "subject": subject,
            "status": status,
            "priority": priority,
            "opened_at": opened,
            "resolved_at": resolved.where(~unresolved),
        }
    )
    frame = frame.sort_values(["opened_at", "account"], kind="stable").reset_index(drop=True)
    frame.insert(1, "external_id", [f"TCK-{k + 1:07d}" for k in range(len(frame))])
    return frame


def _comments(rng: np.random.Generator, theme: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """A comment of the given theme where wanted, else blank."""
    out = np.full(len(theme), "", dtype=object)
    pick = rng.integers(0, 3, len(theme))
    for name, texts in COMMENTS.items():
        here = wanted & (theme == name)
        out[here] = np.array(texts, dtype=object)[pick[here] % len(texts)]
    return out


def surveys(
    rng: np.random.Generator, w: World, engagement: np.ndarray, contacts: pd.DataFrame, tickets: pd.DataFrame
) -> pd.DataFrame:
    """Quarterly NPS waves and CSAT after resolved tickets; scores follow engagement, comments name the pain."""
    offsets = np.searchsorted(contacts["account"].to_numpy(), np.arange(len(w.signup) + 1))
    size = np.diff(offsets)
    parts = []
    for wave in range(45, w.days, 91):
        asked = np.flatnonzero(w.alive(wave) & (w.signup <= wave - 30))
        account = asked[rng.random(len(asked)) < 0.35]
        recent = engagement[account, max(wave - 30, 0) : wave].mean(axis=1)
        score = np.clip(np.round(7.6 + 1.7 * np.log(recent + 0.05) + rng.normal(0, 1.5, len(account))), 0, 10)
        upcoming = (w.churn[account] > wave) & (w.churn[account] - wave <= 150)
        named = np.array(REASON_THEME, dtype=object)[w.reason[account]]
        theme = np.where(upcoming & (rng.random(len(account)) < 0.7), named, rng.choice(NEGATIVE_THEMES, len(account)))
        theme = np.where(score >= 9, "positive", np.where(score >= 7, "neutral", theme))
        contact = offsets[account] + np.where(
            rng.random(len(account)) < 0.6, 0, rng.integers(0, 1000, len(account)) % size[account]
        )
        day = np.minimum(wave + rng.exponential(4, len(account)).astype(np.int64), w.days - 1)
        parts.append(
            pd.DataFrame(
                {
                    "account": account,
                    "contact": contact,
                    "kind": "nps",
                    "score": score.astype(int),
                    "comment": _comments(rng, theme, rng.random(len(account)) < 0.45),
                    "responded_at": instants(w.start, day, work_seconds(rng, REGION_NOON_UTC[w.region[account]])),
                }
            )
        )

    done = tickets[tickets["resolved_at"].notna()]
    done = done[rng.random(len(done)) < 0.35]
    account = done["account"].to_numpy()
    hours = ((done["resolved_at"] - done["opened_at"]).dt.total_seconds() / 3600).to_numpy()
    opened_day = ((done["opened_at"] - pd.Timestamp(w.start, tz="UTC")).dt.days).to_numpy()
    mood = 0.5 * np.log(engagement[account, opened_day] + 0.05) - 0.35 * np.log(hours / 16)
    score = np.clip(np.round(4.2 + mood + rng.normal(0, 0.8, len(done))), 1, 5).astype(int)
    theme = np.where(score <= 2, "support", np.where(score == 3, "neutral", "positive"))
    responded = done["resolved_at"] + pd.to_timedelta(rng.integers(3600, 48 * 3600, len(done)), unit="s")
    now = pd.Timestamp(w.start, tz="UTC") + pd.Timedelta(days=w.days)
    parts.append(
        pd.DataFrame(
            {
                "account": account,
                "contact": offsets[account] + rng.integers(0, 1000, len(done)) % size[account],
                "kind": "csat",
                "score": score,
                "comment": _comments(rng, theme, rng.random(len(done)) < 0.3),
                "responded_at": responded.to_numpy(),
            }
        )[(responded < now).to_numpy()]
    )
    frame = pd.concat(parts, ignore_index=True)
    frame["responded_at"] = pd.to_datetime(frame["responded_at"], utc=True)
    return frame.sort_values(["responded_at", "account", "kind"], kind="stable").reset_index(drop=True)
