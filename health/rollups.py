"""Daily usage rollups: one row per account and day, rebuilt from the raw events of that day.

Incremental: after ingestion, `rollups_refresh(account_day_pairs=…)` recomputes only the affected account-days
(the ingestion path calls it through `health.tasks.refresh_rollups`). `rollups_rebuild()` (`manage.py
rebuild_rollups`) recomputes everything, a month of events at a time. Both are set-based: one grouped query over
the events, pandas to fold it, bulk writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from django.db import transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDate

from accounts.models import UsageEvent
from health import conf
from health.models import FeatureFirstUse, UsageDaily

BATCH = 5000


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _event_counts(queryset) -> pd.DataFrame:
    """Events counted per (account, day, user, type): the only pass over raw events."""
    rows = (
        queryset.annotate(day=TruncDate("occurred_at"))
        .values("account_id", "day", "user_id", "event_type")
        .annotate(n=Count("id"))
        .order_by()
    )
    frame = pd.DataFrame.from_records(
        rows.values_list("account_id", "day", "user_id", "event_type", "n"),
        columns=["account_id", "day", "user_id", "event_type", "n"],
    )
    if not frame.empty:
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def fold_daily(counts: pd.DataFrame) -> pd.DataFrame:
    """Pure: per (account, day, user, type) counts → one rollup row per (account, day).

    Columns: account_id, day, events, key_events, active_users, meaningful, payment_failures, by_type.
    """
    columns = ["account_id", "day", "events", "key_events", "active_users", "meaningful", "payment_failures", "by_type"]
    if counts.empty:
        return pd.DataFrame(columns=columns)
    key_events = set(conf.get("KEY_EVENTS"))
    non_activity = set(conf.get("NON_ACTIVITY_EVENTS"))
    payment = set(conf.get("PAYMENT_FAILURE_EVENTS"))
    min_key = int(conf.get("MEANINGFUL_MIN_KEY_EVENTS"))

    activity = counts[~counts["event_type"].isin(non_activity)].copy()
    activity["key_n"] = activity["n"].where(activity["event_type"].isin(key_events), 0)
    per_user = activity.groupby(["account_id", "day", "user_id"], sort=False).agg(
        n=("n", "sum"), key_n=("key_n", "sum")
    )
    per_user["meaningful"] = per_user["key_n"] >= min_key
    daily = per_user.groupby(level=["account_id", "day"], sort=False).agg(
        events=("n", "sum"), key_events=("key_n", "sum"), active_users=("n", "size"), meaningful=("meaningful", "any")
    )
    counts = counts.assign(pay=counts["n"].where(counts["event_type"].isin(payment), 0))
    by_type = counts.groupby(["account_id", "day", "event_type"], sort=True)["n"].sum()
    maps: dict[tuple, dict] = {}
    for (account_id, day, event_type), n in by_type.items():
        maps.setdefault((account_id, day), {})[event_type] = int(n)
    all_days = counts.groupby(["account_id", "day"], sort=False)["pay"].sum().rename("payment_failures").to_frame()
    daily = all_days.join(daily, how="left")
    daily[["events", "key_events", "active_users"]] = (
        daily[["events", "key_events", "active_users"]].fillna(0).astype(int)
    )
    daily["meaningful"] = daily["meaningful"].astype("boolean").fillna(False).astype(bool)
    daily["by_type"] = [maps[index] for index in daily.index]
    return daily.reset_index()[columns]


def fold_first_use(counts: pd.DataFrame) -> pd.DataFrame:
    """Pure: first day each account used each key feature within these counts."""
    key = counts[counts["event_type"].isin(set(conf.get("KEY_EVENTS")))]
    return key.groupby(["account_id", "event_type"], as_index=False)["day"].min()


def _write_daily(daily: pd.DataFrame) -> int:
    objs = [
        UsageDaily(
            account_id=row.account_id,
            day=row.day,
            events=row.events,
            key_events=row.key_events,
            active_users=row.active_users,
            meaningful=row.meaningful,
            payment_failures=row.payment_failures,
            by_type=row.by_type,
        )
        for row in daily.itertuples(index=False)
    ]
    UsageDaily.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)


def _merge_first_use(first: pd.DataFrame) -> None:
    """Keep the earliest first-use day per (account, feature): an upsert that never moves a day later."""
    if first.empty:
        return
    accounts = first["account_id"].unique().tolist()
    existing = pd.DataFrame.from_records(
        _in_accounts(FeatureFirstUse.objects.all(), accounts).values_list("account_id", "feature", "first_day"),
        columns=["account_id", "event_type", "day"],
    )
    merged = pd.concat([first, existing]).groupby(["account_id", "event_type"], as_index=False)["day"].min()
    FeatureFirstUse.objects.bulk_create(
        [FeatureFirstUse(account_id=r.account_id, feature=r.event_type, first_day=r.day) for r in merged.itertuples()],
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["account", "feature"],
        update_fields=["first_day"],
    )


def _in_accounts(queryset, accounts: list[int]):
    # Large account sets scan by date range instead of a giant IN list (SQLite caps bound variables).
    return queryset.filter(account_id__in=accounts) if len(accounts) <= 900 else queryset


@transaction.atomic
def rollups_refresh(*, account_day_pairs: Iterable[tuple[int, dt.date]]) -> dict[str, int]:
    """Recompute the rollups of exactly these (account_id, day) pairs from their raw events (idempotent)."""
    pairs = pd.DataFrame(list({(int(a), d) for a, d in account_day_pairs}), columns=["account_id", "day"])
    if pairs.empty:
        return {"pairs": 0, "rows": 0}
    accounts = pairs["account_id"].unique().tolist()
    first_day, last_day = pairs["day"].min(), pairs["day"].max()
    events = _in_accounts(UsageEvent.objects.all(), accounts).filter(
        occurred_at__gte=_utc(first_day), occurred_at__lt=_utc(last_day + dt.timedelta(days=1))
    )
    counts = _event_counts(events)
    if not counts.empty:
        counts = counts.merge(pairs, on=["account_id", "day"])
    for day, group in pairs.groupby("day"):
        UsageDaily.objects.filter(day=day, account_id__in=group["account_id"].tolist()).delete()
    written = _write_daily(fold_daily(counts))
    if not counts.empty:
        _merge_first_use(fold_first_use(counts))
    return {"pairs": len(pairs), "rows": written}


def rollups_rebuild(*, chunk_days: int = 31, log=None) -> dict[str, int]:
    """Drop and rebuild every rollup and first-use row from all events, one chunk of days per transaction."""
    span = UsageEvent.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    with transaction.atomic():
        UsageDaily.objects.all().delete()
        FeatureFirstUse.objects.all().delete()
    if span["first"] is None:
        return {"rows": 0, "days": 0}
    start, end = span["first"].astimezone(dt.UTC).date(), span["last"].astimezone(dt.UTC).date()
    rows = 0
    day = start
    while day <= end:
        stop = min(day + dt.timedelta(days=chunk_days), end + dt.timedelta(days=1))
        with transaction.atomic():
            counts = _event_counts(UsageEvent.objects.filter(occurred_at__gte=_utc(day), occurred_at__lt=_utc(stop)))
            rows += _write_daily(fold_daily(counts))
            if not counts.empty:
                _merge_first_use(fold_first_use(counts))
        if log:
            log(f"rollups {day} – {stop - dt.timedelta(days=1)}: {rows} rows so far")
        day = stop
    return {"rows": rows, "days": (end - start).days + 1}
