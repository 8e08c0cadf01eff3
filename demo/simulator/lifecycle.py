"""The mechanisms of churn: when and why each account leaves, comes back, pauses or dips (`lifecycle`), and the
latent daily engagement that makes it visible beforehand (`engagement`)."""

from __future__ import annotations

import numpy as np

from demo.simulator.catalogue import (
    EARLY_HAZARD,
    MONTHLY_CHURN,
    NEVER,
    R_CLOSED,
    R_ONBOARDING,
    R_PAYMENT,
    REACTIVATION_P,
    REASON_MIX,
)
from demo.simulator.world import World, choose_rows

# Accounts per block of the engagement computation (its float64 temporaries are block × days).
ENGAGEMENT_BLOCK = 2_000


def lifecycle(rng: np.random.Generator, w: World) -> None:
    """Churn day and reason, the decay before it, win-backs, pauses and champion dips (fills `w` in place)."""
    n = len(w.signup)
    horizon = w.days // 30 + 6  # simulate a little past the window: churn just ahead already shows as decay
    early = np.ones(horizon)
    early[: len(EARLY_HAZARD)] = EARLY_HAZARD[:horizon]
    hazard = MONTHLY_CHURN[w.segment][:, None] * np.exp(-0.7 * w.z)[:, None] * early[None, :]
    hits = rng.random((n, horizon)) < hazard
    month = np.where(hits.any(axis=1), hits.argmax(axis=1), -1)
    life = np.maximum(((month + rng.random(n)) * 30.44).astype(int), 14)
    life = np.where(w.annual, 365 * np.ceil(life / 365).astype(int), life)  # annual customers leave at term end
    w.churn = np.where(month >= 0, w.signup + life, NEVER)

    w.reason = choose_rows(rng, REASON_MIX[w.segment])
    w.reason = np.where((life < 100) & (rng.random(n) < 0.5), R_ONBOARDING, w.reason)
    w.reason = np.where((w.reason == R_ONBOARDING) & (life > 180), 3, w.reason)  # a late "onboarding" is product fit

    w.decay_window = rng.integers(28, 85, n)
    w.decay_floor = rng.uniform(0.05, 0.3, n)
    silent = rng.random(n) < 0.15  # churners who give no behavioural warning
    w.decay_floor = np.where(silent, 0.9, w.decay_floor)
    w.decay_floor = np.where(w.reason == R_PAYMENT, 0.95, w.decay_floor)  # involuntary: they were still using it
    w.decay_window = np.where(w.reason == R_PAYMENT, 14, w.decay_window)
    w.decay_window = np.where(w.reason == R_CLOSED, 21, w.decay_window)
    if w.mechanism == "usage_decay":
        w.decay_window = rng.integers(45, 121, n)
        w.decay_floor = rng.uniform(0.02, 0.2, n)
    elif w.mechanism != "default":  # the other mechanisms leave overall usage as it was
        w.decay_floor = np.ones(n)

    gap = 30 + rng.exponential(60, n).astype(int)
    comes_back = (rng.random(n) < REACTIVATION_P[w.reason]) & (w.churn + gap < w.days)
    w.react = np.where(comes_back, w.churn + gap, NEVER)

    pause_day = w.days - rng.integers(7, 90, n)
    pauses = (w.churn > w.days) & (pause_day - w.signup > 120) & (rng.random(n) < 0.03)
    w.pause = np.where(pauses, pause_day, NEVER)
    w.churn = np.where(pauses, NEVER, w.churn)  # they paused instead of leaving

    room = np.minimum(w.churn, w.days) - (w.signup + 30)
    dips = (rng.random(n) < 0.12) & (room > 0)
    w.dip_start = np.where(dips, w.signup + 30 + (rng.random(n) * np.maximum(room, 1)).astype(int), NEVER)
    w.dip_len = rng.integers(21, 57, n)


def engagement(rng: np.random.Generator, w: World) -> np.ndarray:
    """Latent engagement per account and day (accounts × days, float32); 0 while the account holds no subscription.

    The random walk is drawn for everyone first; the rest is element-wise, so it is computed a block of accounts
    at a time and the float64 temporaries stay a few blocks' worth instead of several accounts × days matrices.
    """
    n = len(w.signup)
    # A slow weekly random walk, so healthy accounts wobble too.
    drift = np.empty((n, w.days // 7 + 1), dtype=np.float32)
    x = rng.normal(0, 0.25, n)
    for week in range(drift.shape[1]):
        x = 0.85 * x + rng.normal(0, 0.12, n)
        drift[:, week] = x
    out = np.empty((n, w.days), dtype=np.float32)
    for first in range(0, n, ENGAGEMENT_BLOCK):
        rows = slice(first, first + ENGAGEMENT_BLOCK)
        out[rows] = _engagement_block(w, rows, drift[rows])
    return out


def _engagement_block(w: World, rows: slice, drift: np.ndarray) -> np.ndarray:
    """Engagement of the accounts `rows` (their slice of the random walk given), as `engagement` returns it."""
    t = np.arange(w.days)
    signup, churn, react, pause = w.signup[rows], w.churn[rows], w.react[rows], w.pause[rows]
    age = t[None, :] - signup[:, None]
    back = t[None, :] >= react[:, None]
    ramp = 1 - 0.5 * np.exp(-np.clip(age, 0, None) / 21)  # new accounts take a few weeks to get going
    to_churn = np.clip((churn[:, None] - t[None, :]) / w.decay_window[rows, None], 0, 1)
    decay = w.decay_floor[rows, None] + (1 - w.decay_floor[rows, None]) * to_churn
    level = np.where(back, 0.75, ramp * decay)
    level *= np.exp(drift[:, t // 7])
    dip_start = w.dip_start[rows]
    in_dip = (t[None, :] >= dip_start[:, None]) & (t[None, :] < (dip_start + w.dip_len[rows])[:, None])
    level *= np.where(in_dip, 0.4, 1.0) * np.where(t[None, :] >= pause[:, None], 0.05, 1.0)
    alive = (age >= 0) & ((t[None, :] < churn[:, None]) | back)
    return (w.baseline[rows, None] * level * alive).astype(np.float32)
