"""The catalogue's columns for each observation: per event type counts, rates, changes and days since last use
from the daily rollups, overall activity, subscription, ticket and survey features."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from health.features._common import observation_dates
from health.features.inputs import Facts
from health.features.names import catalogue

WINDOW = 28
LAG = 84  # "three months earlier": the 28 days ending 84 days before the observation
SINCE_CAP = 365
CHUNK = 2000  # accounts per block of the day × type cube (bounded memory at any scale)
ATTRIBUTES_WITHOUT_HISTORY = ("segment", "custom_attributes")


def _cube(frame: pd.DataFrame, accounts: np.ndarray, column: str, d0: dt.date, n_days: int, kinds=None):
    """Counts as an (accounts × days × kinds) array of cumulative sums along the days (leading zero day)."""
    n_kinds = 1 if kinds is None else len(kinds)
    cube = np.zeros((len(accounts), n_days + 1, n_kinds), dtype=np.float32)
    if not frame.empty:
        a = np.searchsorted(accounts, frame["account_id"].to_numpy(dtype=np.int64))
        ok = (a < len(accounts)) & (accounts[np.minimum(a, len(accounts) - 1)] == frame["account_id"].to_numpy())
        d = (pd.to_datetime(frame["day"]) - pd.Timestamp(d0)).dt.days.to_numpy()
        ok &= (d >= 0) & (d < n_days)
        if kinds is None:
            k = np.zeros(len(frame), dtype=np.int64)
        else:
            index = {t: i for i, t in enumerate(kinds)}
            k = frame["event_type"].map(index).fillna(-1).to_numpy(dtype=np.int64)
            ok &= k >= 0
        np.add.at(cube, (a[ok], d[ok] + 1, k[ok]), frame[column].to_numpy(dtype=np.float32)[ok])
    return cube


def _window(cum: np.ndarray, rows: np.ndarray, end: np.ndarray, days: int) -> np.ndarray:
    """Sums over the `days` days before day index `end` (exclusive) for each row: cum[end] − cum[end − days]."""
    start = np.maximum(end - days, 0)
    return cum[rows, np.maximum(end, 0)] - cum[rows, start]


def _last_use(cum: np.ndarray) -> np.ndarray:
    """Per account, day and kind: index of the last day with a count on or before it (−1 = never)."""
    counts = np.diff(cum, axis=1) > 0
    idx = np.where(counts, np.arange(counts.shape[1])[None, :, None], -1)
    return np.maximum.accumulate(idx, axis=1)


def _log_change(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    return np.log((now + 1.0) / (before + 1.0))


def _subscription_features(subs: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """MRR, seats, billing term and plan of the subscriptions active at the observation date, and 90 days before."""
    out = pd.DataFrame(index=grid.index)
    if subs.empty:
        for column in ("mrr", "mrr_90", "seats", "seats_90", "billing_period", "first_start"):
            out[column] = np.nan
        out["plan"] = ""
        return out
    subs = subs.assign(
        start=observation_dates(subs["start_date"]),
        end=observation_dates(subs["end_date"]),
        mrr=subs["mrr"].astype(float),
    ).reset_index(drop=True)
    keyed = grid[["obs_date", "account_id"]].assign(row=grid.index, stamp=observation_dates(grid["obs_date"]))
    pairs = keyed.merge(subs, on="account_id", how="left")
    parts = {}
    for name, shift in (("now", 0), ("ago", 90)):
        day = pairs["stamp"] - pd.Timedelta(days=shift)
        active = (pairs["start"] <= day) & (pairs["end"].isna() | (pairs["end"] > day))
        act = pairs[active]
        parts[name] = act
        agg = act.groupby("row").agg(mrr=("mrr", "sum"), seats=("quantity", "sum"), period=("billing_period", "max"))
        suffix = "" if shift == 0 else "_90"
        out[f"mrr{suffix}"] = agg["mrr"].reindex(out.index)
        out[f"seats{suffix}"] = agg["seats"].reindex(out.index)
        if shift == 0:
            out["billing_period"] = agg["period"].reindex(out.index)
            main = act.sort_values(["row", "mrr"], ascending=[True, False], kind="stable").drop_duplicates("row")
            out["plan"] = main.set_index("row")["product"].reindex(out.index).fillna("").astype(str)
    started = pairs[pairs["start"] <= pairs["stamp"]].groupby("row")["start"].min()
    out["first_start"] = started.reindex(out.index)
    return out


def _latest_before(events: pd.DataFrame, grid: pd.DataFrame, value: str) -> pd.Series:
    """The latest `value` dated before each observation date (merge_asof, strictly earlier)."""
    if events.empty:
        return pd.Series(np.nan, index=grid.index)
    left = grid[["obs_date", "account_id"]].assign(row=grid.index, stamp=observation_dates(grid["obs_date"]))
    right = events.assign(stamp=observation_dates(events["day"]))[["account_id", "stamp", value]]
    left = left.sort_values("stamp", kind="stable")
    right = right.sort_values("stamp", kind="stable").astype({"account_id": left["account_id"].dtype})
    merged = pd.merge_asof(left, right, on="stamp", by="account_id", allow_exact_matches=False, direction="backward")
    return merged.set_index("row")[value].reindex(grid.index).astype(float)


def build_features(
    facts: Facts,
    grid: pd.DataFrame,
    *,
    types: list[str],
    ratios: list[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """The catalogue's columns for each row of `grid` (obs_date, account_id, labels…), joined to the grid."""
    ratios = [(a, b) for a, b in (ratios or []) if a in types and b in types]
    out = grid.copy().reset_index(drop=True)
    if out.empty:
        return out.assign(**{name: pd.Series(dtype=float) for name in catalogue(types, ratios)}, plan="")
    obs = pd.to_datetime(out["obs_date"])
    d0 = (obs.min() - pd.Timedelta(days=LAG + WINDOW + SINCE_CAP)).date()
    n_days = (obs.max() - pd.Timestamp(d0)).days + 1
    end_index = (obs - pd.Timestamp(d0)).dt.days.to_numpy()  # day index of the observation date (exclusive)
    accounts = np.sort(out["account_id"].unique().astype(np.int64))

    columns: dict[str, np.ndarray] = {}
    n_types = len(types)
    per_type = {k: np.full((len(out), n_types), np.nan) for k in ("n28", "prev", "since")}
    overall = {k: np.full(len(out), np.nan) for k in ("active", "active_prev", "events", "ud", "ud_prev", "since")}
    tickets = {k: np.zeros(len(out)) for k in ("t28", "t90")}
    daily, activity, ticket_days = facts.daily, facts.activity, facts.tickets
    for start in range(0, len(accounts), CHUNK):
        block = accounts[start : start + CHUNK]
        mask = out["account_id"].isin(block).to_numpy()
        rows = np.searchsorted(block, out.loc[mask, "account_id"].to_numpy(dtype=np.int64))
        end = end_index[mask]
        if n_types:
            cum = np.cumsum(_cube(daily[daily["account_id"].isin(block)], block, "n", d0, n_days, types), axis=1)
            per_type["n28"][mask] = _window(cum, rows, end, WINDOW)
            per_type["prev"][mask] = _window(cum, rows, end - LAG, WINDOW)
            last = _last_use(cum)
            seen = last[rows, np.maximum(end - 1, 0)]
            per_type["since"][mask] = np.where(seen >= 0, end[:, None] - 1 - seen, np.nan)
        act = activity[activity["account_id"].isin(block)]
        days_cum = np.cumsum(_cube(act.assign(one=(act["events"] > 0).astype(float)), block, "one", d0, n_days), 1)
        ev_cum = np.cumsum(_cube(act, block, "events", d0, n_days), axis=1)
        ud_cum = np.cumsum(_cube(act, block, "active_users", d0, n_days), axis=1)
        overall["active"][mask] = _window(days_cum, rows, end, WINDOW)[:, 0]
        overall["active_prev"][mask] = _window(days_cum, rows, end - LAG, WINDOW)[:, 0]
        overall["events"][mask] = _window(ev_cum, rows, end, WINDOW)[:, 0]
        overall["ud"][mask] = _window(ud_cum, rows, end, WINDOW)[:, 0]
        overall["ud_prev"][mask] = _window(ud_cum, rows, end - LAG, WINDOW)[:, 0]
        seen = _last_use(days_cum)[rows, np.maximum(end - 1, 0), 0]
        overall["since"][mask] = np.where(seen >= 0, end - 1 - seen, np.nan)
        tick = ticket_days[ticket_days["account_id"].isin(block)].assign(one=1.0)
        t_cum = np.cumsum(_cube(tick, block, "one", d0, n_days), axis=1)
        tickets["t28"][mask] = _window(t_cum, rows, end, WINDOW)[:, 0]
        tickets["t90"][mask] = _window(t_cum, rows, end, 90)[:, 0]

    subs = _subscription_features(facts.subscriptions, out)
    created = facts.accounts.set_index("account_id")["created_day"] if not facts.accounts.empty else pd.Series()
    since_start = subs["first_start"].fillna(out["account_id"].map(created).pipe(pd.to_datetime))
    tenure = (obs - pd.to_datetime(since_start)).dt.days.clip(lower=0).to_numpy(dtype=float)
    cap = np.minimum(np.nan_to_num(tenure, nan=SINCE_CAP), SINCE_CAP)
    mrr = subs["mrr"].fillna(0).to_numpy(dtype=float)
    user_days = overall["ud"]
    for j, t in enumerate(types):
        n28 = per_type["n28"][:, j]
        columns[f"n28:{t}"] = n28
        columns[f"pu28:{t}"] = np.where(user_days > 0, n28 / np.maximum(user_days, 1), np.nan)
        columns[f"pm28:{t}"] = np.where(mrr > 0, 100 * n28 / np.maximum(mrr, 1e-9), np.nan)
        columns[f"chg:{t}"] = _log_change(n28, per_type["prev"][:, j])
        columns[f"since:{t}"] = np.minimum(
            np.where(np.isnan(per_type["since"][:, j]), cap, per_type["since"][:, j]), cap
        )
    for a, b in ratios:
        num, den = per_type["n28"][:, types.index(a)], per_type["n28"][:, types.index(b)]
        columns[f"ratio:{a}/{b}"] = np.where(den > 0, num / np.maximum(den, 1), np.nan)
    columns["active_days_28"] = overall["active"]
    columns["chg_active_days"] = _log_change(overall["active"], overall["active_prev"])
    columns["events_28"] = overall["events"]
    columns["user_days_28"] = user_days
    columns["chg_user_days"] = _log_change(user_days, overall["ud_prev"])
    columns["since_active"] = np.minimum(np.where(np.isnan(overall["since"]), cap, overall["since"]), cap)
    columns["tenure_days"] = tenure
    columns["mrr"] = mrr
    mrr_90 = subs["mrr_90"].to_numpy(dtype=float)
    columns["mrr_chg_90"] = np.where(
        mrr_90 > 0, np.clip((mrr - mrr_90) / np.where(mrr_90 > 0, mrr_90, 1), -1, 3), np.nan
    )
    seats = subs["seats"].fillna(0).to_numpy(dtype=float)
    seats_90 = subs["seats_90"].to_numpy(dtype=float)
    columns["seats"] = seats
    columns["user_days_per_seat"] = np.where(seats > 0, user_days / np.maximum(seats, 1), np.nan)
    columns["events_per_seat"] = np.where(seats > 0, overall["events"] / np.maximum(seats, 1), np.nan)
    columns["seats_chg_90"] = np.where(seats_90 > 0, seats - np.nan_to_num(seats_90), np.nan)
    period = subs["billing_period"].to_numpy(dtype=float)
    columns["billing_period"] = period
    term = np.round(period * 365.25 / 12)
    columns["days_to_renewal"] = np.where(
        term > 0, term - np.mod(np.nan_to_num(tenure), np.where(term > 0, term, 1)), np.nan
    )
    columns["tickets_28"] = tickets["t28"]
    columns["tickets_90"] = tickets["t90"]
    surveys = facts.surveys
    for kind in ("nps", "csat"):
        columns[kind] = _latest_before(surveys[surveys["kind"] == kind], out, "score").to_numpy(dtype=float)
    features = pd.DataFrame(columns, index=out.index)
    features["plan"] = subs["plan"].to_numpy()
    return pd.concat([out, features], axis=1)
