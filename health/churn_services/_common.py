"""What the churn model's training, predictions and lab runs share: how far back an observation looks, month
arithmetic, and the lab's observations as known at the end of a day."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from health import conf, features, selectors

HISTORY_DAYS = features.LAG + features.WINDOW + features.SINCE_CAP  # what the oldest observation looks back on


def lab_observations(
    *, obs_dates: list[dt.date], today: dt.date, horizons: tuple[int, ...]
) -> tuple[pd.DataFrame, dict[str, str], list[str], list[tuple[str, str]]]:
    """Observations on these month starts as known at the end of `today`: (frame, catalogue, types, ratios)."""
    since = min(obs_dates) - dt.timedelta(days=HISTORY_DAYS) if obs_dates else today
    facts = features.facts_until(selectors.churn_facts(since=since, until=today), today)
    types = features.event_types(facts, configured=tuple(conf.get("CHURN_EVENT_TYPES")))
    ratios = [tuple(pair) for pair in conf.get("CHURN_RATIO_PAIRS")]
    frame, names = features.build_observations(
        facts, obs_dates=obs_dates, today=today, horizons=horizons, types=types, ratios=ratios
    )
    ratios = [(a, b) for a, b in ratios if a in types and b in types]
    return frame, names, types, ratios
