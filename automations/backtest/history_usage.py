"""Historical evaluators of the usage and health leaves: true on day d for account a, read from the daily
health snapshots, churn predictions, account metrics and usage rollups of the health app.

Daily series are read as change points only (a window function keeps the rows where the condition flips), so a
year of daily rows per account comes back as a handful of rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.utils.translation import gettext

from automations.backtest.grid import NEVER, Grid, day_number, fetch, numbers
from automations.conditions.base import ConditionError, as_int, as_number
from health.models import AccountMetrics, ChurnPrediction, HealthSnapshot, UsageDaily

LOOKBACK_DAYS = 7  # how far back a daily series is read for its state on the first day


def _flips(grid: Grid, model, column: str, test: str, params: list, *, lookback: int = LOOKBACK_DAYS) -> np.ndarray:
    """Days on which `column test` held by the account's latest row (rows with a null `column` are skipped)."""
    table, day = model._meta.db_table, day_number("day", grid.start)
    cond = f"CASE WHEN {column} {test} THEN 1 ELSE 0 END"
    sql = (
        f"SELECT account_id, at, cond FROM (SELECT account_id, {day} AS at, {cond} AS cond, "
        f"LAG({cond}) OVER (PARTITION BY account_id ORDER BY day) AS prev FROM {table} "
        f"WHERE {column} IS NOT NULL AND day >= %s AND day <= %s) flips WHERE prev IS NULL OR prev <> cond"
    )
    since = grid.start - dt.timedelta(days=lookback)
    frame = fetch(sql, [*params, *params, since, grid.end], ["account_id", "at", "on"])
    frame["at"] = frame["at"].astype(float)
    return grid.from_states(frame)


def health_below(spec: dict, grid: Grid) -> np.ndarray:
    return _flips(grid, HealthSnapshot, "score", "< %s", [as_number(spec, "value")])


def churn_probability(spec: dict, grid: Grid) -> np.ndarray:
    return _flips(grid, ChurnPrediction, "probability", ">= %s", [as_number(spec, "value")], lookback=400)


def seat_utilisation(spec: dict, grid: Grid) -> np.ndarray:
    return _flips(grid, AccountMetrics, "seat_depth", ">= %s", [as_number(spec, "percent") / 100])


def health_dropped(spec: dict, grid: Grid) -> np.ndarray:
    """The score of day d is ≥ `points` below one of the snapshots of d − days (or up to 3 days before it)."""
    points, days = as_number(spec, "points"), as_int(spec, "days")
    table = HealthSnapshot._meta.db_table
    now_n, then_n = day_number("cur.day", grid.start), day_number("past.day", grid.start)
    sql = (
        f"SELECT DISTINCT cur.account_id, {now_n} FROM {table} cur JOIN {table} past "
        f"ON past.account_id = cur.account_id AND {then_n} BETWEEN {now_n} - %s AND {now_n} - %s "
        f"AND past.score IS NOT NULL AND past.score >= cur.score + %s "
        f"WHERE cur.score IS NOT NULL AND cur.day >= %s AND cur.day <= %s"
    )
    frame = fetch(sql, [days + 3, days, points, grid.start, grid.end], ["account_id", "at"])
    at = frame["at"].to_numpy(dtype=float)
    return grid.from_intervals(frame["account_id"].to_numpy(), at, at + 1)


def inactive_days(spec: dict, grid: Grid) -> np.ndarray:
    """No usage day (rollup with events) in the last N days: the gaps longer than N between active days, the time
    since the last active day, and the time from creation to the first active day."""
    n = as_int(spec, "days")
    table, day = UsageDaily._meta.db_table, day_number("day", grid.start)
    sql = (
        f"SELECT account_id, at, prev, nxt FROM (SELECT account_id, {day} AS at, "
        f"LAG({day}) OVER (PARTITION BY account_id ORDER BY day) AS prev, "
        f"LEAD({day}) OVER (PARTITION BY account_id ORDER BY day) AS nxt FROM {table} "
        f"WHERE events > 0 AND day >= %s AND day <= %s) active WHERE prev IS NULL OR nxt IS NULL OR at - prev > %s"
    )
    frame = fetch(sql, [grid.start - dt.timedelta(days=n + 1), grid.end, n], ["account_id", "at", "prev", "nxt"])
    for column in ("at", "prev", "nxt"):
        frame[column] = frame[column].astype(float)
    # A day is inactive once N whole days have passed since the last active day (or since creation).
    gaps = frame[frame["prev"].notna() & (frame["at"] - frame["prev"] > n)]
    firsts, stops = [gaps["prev"].to_numpy() + n], [gaps["at"].to_numpy()]
    ids = [gaps["account_id"].to_numpy()]
    last = frame[frame["nxt"].isna()]
    ids.append(last["account_id"].to_numpy())
    firsts.append(last["at"].to_numpy() + n)
    stops.append(np.full(len(last), NEVER))
    first_seen = frame[frame["prev"].isna()].set_index("account_id")["at"]
    seen = first_seen.reindex(grid.account_ids).to_numpy(dtype=float)
    ids.append(grid.account_ids)
    firsts.append(np.floor(grid.created) + n)
    stops.append(np.where(np.isnan(seen), NEVER, seen))
    return grid.from_intervals(np.concatenate(ids), np.concatenate(firsts), np.concatenate(stops))


def event_in_days(spec: dict, grid: Grid) -> np.ndarray:
    event_type = spec.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise ConditionError(gettext("event_in_days: 'event_type' is required."))
    n = as_int(spec, "days")
    rows = UsageDaily.objects.filter(
        day__gte=grid.start - dt.timedelta(days=n + 1), day__lte=grid.end, by_type__has_key=event_type
    ).values_list("account_id", "day")
    ids, days = zip(*rows, strict=True) if rows else ((), ())
    at = numbers(days, grid.start)
    return grid.from_intervals(np.asarray(ids, dtype=np.int64), at, at + n)
