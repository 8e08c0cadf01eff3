"""The days × accounts grid a backtest evaluates on, and the set-based ways to fill it.

Every historical fact becomes, per account, intervals of days ([first, stop), day numbers counted from the grid's
first day) during which a condition holds; `Grid.from_intervals` turns a whole frame of them into a boolean matrix
(rows: accounts, columns: days) with one difference array and one cumulative sum — no loop over accounts or days.

A rule is evaluated once per day, at the end of it: for a fact stamped at time x (in days from the grid's start,
fractional for timestamps), `after(x)` is the first day whose evaluation sees it (x < day + 1) and `at_or_after(x)`
the first day whose evaluation instant has reached it (x ≤ day + 1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection

NEVER = 10**7  # a stop beyond any grid: "until now"


def after(x) -> np.ndarray:
    """The first day evaluated after the instant x (day + 1 > x)."""
    return np.floor(np.asarray(x, dtype=float)).astype(np.int64)


def at_or_after(x) -> np.ndarray:
    """The first day evaluated at or after the instant x (day + 1 ≥ x)."""
    return (np.ceil(np.asarray(x, dtype=float)) - 1).astype(np.int64)


@dataclass
class Grid:
    start: dt.date
    end: dt.date  # inclusive
    account_ids: np.ndarray  # sorted
    created: np.ndarray  # each account's creation instant, in days from start
    cache: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """A frame or matrix several leaves read (subscriptions, statuses), computed once per backtest."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.account_ids), self.n_days)

    def day(self, number: int) -> dt.date:
        return self.start + dt.timedelta(days=int(number))

    def rows(self, account_ids) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of `account_ids` and the mask of those that are in the grid."""
        ids = np.asarray(account_ids, dtype=np.int64)
        pos = np.searchsorted(self.account_ids, ids)
        pos = np.clip(pos, 0, max(len(self.account_ids) - 1, 0))
        found = (self.account_ids[pos] == ids) if len(self.account_ids) else np.zeros(len(ids), dtype=bool)
        return pos, found

    def counts(self, account_ids, first, stop, weight=None, dtype=np.int32) -> np.ndarray:
        """Per account and day, the number (or the sum of `weight`) of intervals [first, stop) covering it."""
        pos, found = self.rows(account_ids)
        first = np.clip(np.asarray(first, dtype=np.int64), 0, self.n_days)
        stop = np.clip(np.asarray(stop, dtype=np.int64), 0, self.n_days)
        keep = found & (stop > first)
        diff = np.zeros((len(self.account_ids), self.n_days + 1), dtype=dtype)
        w = np.ones(len(pos), dtype=dtype) if weight is None else np.asarray(weight, dtype=dtype)
        np.add.at(diff, (pos[keep], first[keep]), w[keep])
        np.add.at(diff, (pos[keep], stop[keep]), -w[keep])
        return np.cumsum(diff[:, :-1], axis=1, dtype=dtype)

    def from_intervals(self, account_ids, first, stop) -> np.ndarray:
        return self.counts(account_ids, first, stop) > 0

    def from_states(self, frame: pd.DataFrame) -> np.ndarray:
        """A state held from each change point (columns account_id, at: day number, on: 0/1) to the account's next
        change point (rows sorted by account and day)."""
        if frame.empty:
            return np.zeros(self.shape, dtype=bool)
        frame = frame.sort_values(["account_id", "at"], kind="stable")
        nxt = frame.groupby("account_id")["at"].shift(-1).fillna(NEVER)
        on = frame["on"].astype(bool).to_numpy()
        return self.from_intervals(frame["account_id"].to_numpy()[on], frame["at"].to_numpy()[on], nxt.to_numpy()[on])

    def everywhere(self, value: bool = False) -> np.ndarray:
        return np.full(self.shape, value, dtype=bool)

    def existing(self) -> np.ndarray:
        """Days on which each account already existed (created by the end of the day)."""
        return np.arange(self.n_days)[None, :] >= after(self.created)[:, None]


# --- SQL: day numbers and date arithmetic on each vendor ---------------------------------------------------------


def day_number(column: str, start: dt.date, *, timestamp: bool = False) -> str:
    """SQL for a date (or timestamp, fractional) column as days since `start`."""
    if connection.vendor == "postgresql":
        if timestamp:
            return f"(EXTRACT(EPOCH FROM ({column} - TIMESTAMPTZ '{start.isoformat()} 00:00:00+00')) / 86400.0)"
        return f"({column} - DATE '{start.isoformat()}')"
    return f"(julianday({column}) - julianday('{start.isoformat()}'))"


def fetch(sql: str, params: list, columns: list[str]) -> pd.DataFrame:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return pd.DataFrame.from_records(rows, columns=columns)


def numbers(values, start: dt.date) -> np.ndarray:
    """Python dates or aware datetimes as (fractional) days since `start`; missing ones as NaN."""
    series = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
    origin = pd.Timestamp(start, tz="UTC")
    return ((series - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)
