"""Observations: the accounts active at each observation date with their labels per horizon, the month starts
they are taken on, and the whole frame (population, labels, features) with the catalogue's names."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from health.features._common import observation_dates
from health.features.columns import build_features
from health.features.inputs import Facts, facts_until
from health.features.names import catalogue, event_types


def active_accounts(subscriptions: pd.DataFrame, day: dt.date) -> set[int]:
    """Accounts holding a subscription active at `day` (start ≤ day < end)."""
    if subscriptions.empty:
        return set()
    stamp = pd.Timestamp(day)
    start, end = observation_dates(subscriptions["start_date"]), observation_dates(subscriptions["end_date"])
    active = (start <= stamp) & (end.isna() | (end > stamp))
    return set(subscriptions.loc[active, "account_id"].astype(int))


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month starts from the first on or after `first` up to `last` (inclusive)."""
    day = first.replace(day=1)
    if day < first:
        day = (day + dt.timedelta(days=32)).replace(day=1)
    out = []
    while day <= last:
        out.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return out


def observation_grid(
    facts: Facts, obs_dates: list[dt.date], *, today: dt.date, horizons: tuple[int, ...]
) -> pd.DataFrame:
    """One row per (obs_date, account active at obs_date), with `label_<h>` per horizon: True when the account
    is no longer active at obs_date + h, None while that day is after `today`."""
    rows = []
    for day in obs_dates:
        population = sorted(active_accounts(facts.subscriptions, day))
        if not population:
            continue
        part = pd.DataFrame({"obs_date": day, "account_id": population})
        for h in horizons:
            later = day + dt.timedelta(days=h)
            if later <= today:
                still = active_accounts(facts.subscriptions, later)
                part[f"label_{h}"] = [pk not in still for pk in population]
            else:
                part[f"label_{h}"] = None
        rows.append(part)
    if not rows:
        return pd.DataFrame(columns=["obs_date", "account_id", *(f"label_{h}" for h in horizons)])
    return pd.concat(rows, ignore_index=True)


def build_observations(
    facts: Facts,
    *,
    obs_dates: list[dt.date],
    today: dt.date,
    horizons: tuple[int, ...],
    types: list[str] | None = None,
    ratios: list[tuple[str, str]] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Observations (population, labels per horizon, catalogue features) and the catalogue's names.

    Facts dated after `today` are ignored, so a historical data set can be evaluated as if today were `today`.
    """
    facts = facts_until(facts, today)
    types = types if types is not None else event_types(facts)
    ratios = [(a, b) for a, b in (ratios or []) if a in types and b in types]
    grid = observation_grid(facts, [d for d in obs_dates if d <= today], today=today, horizons=horizons)
    frame = build_features(facts, grid, types=types, ratios=ratios)
    return frame, catalogue(types, ratios)
