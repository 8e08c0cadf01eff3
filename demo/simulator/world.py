"""The latent state of a simulated history (`World`) and the small date/time helpers every stage shares.

Days are counted from `World.start` (the first of the first month); `World.days` is the end date's index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnapp.months import month_start_after
from demo.simulator.catalogue import NEVER


@dataclass
class World:
    """The latent state of the simulation: per-account arrays indexed like `accounts`, days counted from `start`."""

    start: dt.date
    days: int  # the window is [start, end_date); day `days` is the end date itself
    signup: np.ndarray
    segment: np.ndarray
    region: np.ndarray
    annual: np.ndarray  # billed yearly: leaves only at the end of a term
    baseline: np.ndarray  # latent engagement level
    z: np.ndarray  # the same, standardised
    churn: np.ndarray  # day the account cancels (may lie past the window, or NEVER)
    reason: np.ndarray  # index into REASONS
    react: np.ndarray  # day a churned account comes back, or NEVER
    pause: np.ndarray  # day the account pauses, or NEVER
    decay_window: np.ndarray
    decay_floor: np.ndarray
    dip_start: np.ndarray  # a temporary drop (the champion left), or NEVER
    dip_len: np.ndarray
    mechanism: str = "default"

    def alive(self, day: int | np.ndarray) -> np.ndarray:
        """Whether each account holds a subscription at `day` (paused counts: paused is not churn)."""
        day = np.asarray(day)
        return (self.signup <= day) & ((day < self.churn) | (day >= self.react))

    def month_starts(self) -> np.ndarray:
        """Day index of the first of each calendar month in the window (the first is 0)."""
        starts, month = [], 0
        while (day := (month_start_after(self.start, month) - self.start).days) < self.days:
            starts.append(day)
            month += 1
        return np.array(starts or [0], dtype=np.int64)


def choose_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a probability matrix, vectorised."""
    cumulative = np.cumsum(probabilities / probabilities.sum(axis=1, keepdims=True), axis=1)
    return (rng.random(len(probabilities))[:, None] > cumulative[:, :-1]).sum(axis=1)


def instants(start: dt.date, day: np.ndarray, seconds: np.ndarray) -> pd.Series:
    """Tz-aware UTC timestamps from day indexes and seconds into the day."""
    base = np.datetime64(start, "s")
    offsets = (np.asarray(day, dtype=np.int64) * 86400 + np.asarray(seconds, dtype=np.int64)).astype("timedelta64[s]")
    return pd.Series(base + offsets).dt.tz_localize("UTC")


def dates(start: dt.date, day: np.ndarray) -> np.ndarray:
    """datetime.date objects for day indexes (None for NEVER)."""
    day = np.asarray(day, dtype=np.int64)
    out = (np.datetime64(start, "D") + np.minimum(day, 10**5).astype("timedelta64[D]")).astype(object)
    out[day >= NEVER] = None
    return out


def work_seconds(rng: np.random.Generator, noon_utc: np.ndarray) -> np.ndarray:
    """Seconds into the UTC day of something done during the local working day."""
    hours = rng.normal(noon_utc - 1.5, 2.5)
    return (hours * 3600).astype(np.int64) % 86400


def alive_days(rng: np.random.Generator, w: World, account: np.ndarray) -> np.ndarray:
    """A uniformly drawn day on which each given account held a subscription (first life, then after a win-back)."""
    first_life = np.minimum(w.churn, w.days) - w.signup
    second_life = np.where(w.react < NEVER, w.days - w.react, 0)
    offset = (rng.random(len(account)) * (first_life + second_life)[account]).astype(np.int64)
    after = offset >= first_life[account]
    return np.where(after, w.react[account] + offset - first_life[account], w.signup[account] + offset)


def calendar(w: World) -> np.ndarray:
    """Usage by calendar day: quiet weekends and a year-end lull."""
    days = np.datetime64(w.start, "D") + np.arange(w.days)
    weekday = (days.astype(np.int64) - 4) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    month_day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    holidays = ((month == 12) & (month_day >= 24)) | ((month == 1) & (month_day == 1))
    return np.where(weekday >= 5, 0.25, 1.0) * np.where(holidays, 0.5, 1.0)
