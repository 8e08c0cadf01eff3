"""Daily usage rollups: one row per account and day, rebuilt from the raw events of that day.

Incremental: every ingest marks the account-days it touched (`RollupMark`, in its own transaction) and queues
`health.tasks.refresh_rollups` after commit, both through the `events-ingested` hook;
`rollups_refresh(account_day_pairs=…)` claims those marks and recomputes only these account-days. A refresh that
never ran (broker down, worker killed) leaves its marks behind, and `rollups_sweep()` (beat, every minute) picks
them up. `rollups_rebuild()`
(`manage.py rebuild_rollups`) recomputes everything, a month of events at a time, in one transaction. Both are
set-based: one grouped query over the events, pandas to fold it, bulk writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

import pandas as pd
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import UsageEvent
from churnapp import hooks
from churnapp.validation import EVENT_TIME_RANGE, MAX_EVENT_TIME, MIN_EVENT_TIME
from health import conf
from health.bulk import bulk_insert, marks_upsert
from health.models import FeatureFirstUse, RollupMark, UsageDaily

BATCH = 5000
SWEEP_AFTER = dt.timedelta(seconds=60)  # a mark this old lost its refresh task (they run within seconds)
SWEEP_LIMIT = 20_000  # account-days per sweep; a longer backlog drains over the next minutes


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

    Columns: account_id, day, events, key_events, active_users, meaningful, payment_failures, by_type (JSON text).
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
    # by_type as JSON text, built column-wise (a Python dict per row is too slow at millions of rows).
    by_type = counts.groupby(["account_id", "day", "event_type"], sort=True)["n"].sum().reset_index()
    quoted = {name: json.dumps(str(name)) for name in by_type["event_type"].unique()}
    by_type["pair"] = by_type["event_type"].map(quoted) + ":" + by_type["n"].astype(str)
    maps = "{" + by_type.groupby(["account_id", "day"], sort=False)["pair"].agg(",".join) + "}"
    all_days = counts.groupby(["account_id", "day"], sort=False)["pay"].sum().rename("payment_failures").to_frame()
    daily = all_days.join(daily, how="left")
    daily[["events", "key_events", "active_users"]] = (
        daily[["events", "key_events", "active_users"]].fillna(0).astype(int)
    )
    daily["meaningful"] = daily["meaningful"].astype("boolean").fillna(False).astype(bool)
    daily["by_type"] = maps.reindex(daily.index)
    return daily.reset_index()[columns]


def fold_first_use(counts: pd.DataFrame) -> pd.DataFrame:
    """Pure: first day each account used each key feature within these counts."""
    key = counts[counts["event_type"].isin(set(conf.get("KEY_EVENTS")))]
    return key.groupby(["account_id", "event_type"], as_index=False)["day"].min()


def _write_daily(daily: pd.DataFrame) -> int:
    return bulk_insert(UsageDaily, daily.to_dict("records"))


def _merge_first_use(first: pd.DataFrame) -> None:
    """Keep the earliest first-use day per (account, feature): an upsert that never moves a day later."""
    if first.empty:
        return
    quote = connection.ops.quote_name
    table = quote(FeatureFirstUse._meta.db_table)
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    rows = list(first[["account_id", "event_type", "day"]].itertuples(index=False, name=None))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            values = ", ".join(["(%s, %s, %s)"] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} (account_id, feature, first_day) VALUES {values} "
                f"ON CONFLICT (account_id, feature) DO UPDATE SET first_day = "
                f"{least}({table}.first_day, EXCLUDED.first_day)",
                [v for row in batch for v in (int(row[0]), row[1], row[2])],
            )


def _in_accounts(queryset, accounts: list[int]):
    # Large account sets scan by date range instead of a giant IN list (SQLite caps bound variables).
    return queryset.filter(account_id__in=accounts) if len(accounts) <= 900 else queryset


def _accepted_pairs(account_day_pairs: Iterable[tuple[int, dt.date | str]]) -> list[tuple[int, dt.date]]:
    first, last = MIN_EVENT_TIME.date(), MAX_EVENT_TIME.date()
    days = {(int(a), d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10])) for a, d in account_day_pairs}
    return sorted((a, d) for a, d in days if first <= d <= last)


def rollups_mark(account_day_pairs: Iterable[tuple[int, dt.date | str]]) -> None:
    """Mark these account-days stale, inside the ingest's transaction (the `events-ingested` in-transaction hook);
    see `marks_upsert`."""
    marks_upsert(RollupMark, _accepted_pairs(account_day_pairs), key_fields=["account", "day"], at=timezone.now())


def _claim_marks(pairs: pd.DataFrame) -> int:
    """Lock (in account, day order) and delete the marks of these pairs; a rollback puts them back."""
    match = Q()
    for day, group in pairs.groupby("day"):
        match |= Q(day=day, account_id__in=group["account_id"].tolist())
    ids = list(
        RollupMark.objects.select_for_update().filter(match).order_by("account_id", "day").values_list("id", flat=True)
    )
    return RollupMark.objects.filter(id__in=ids).delete()[0] if ids else 0


@transaction.atomic
def rollups_refresh_marked(*, limit: int = SWEEP_LIMIT) -> dict[str, int]:
    """The refresh task's work: every marked account-day no other refresh holds, oldest first, up to `limit`. The
    first task of a backlog takes the marks of every ingest so far, and the tasks queued behind it find nothing
    left: a flood of ingests costs a few refreshes, not one each.

    Every ingest marks its account-days before it queues its task. A mark another refresh holds is left to it: that
    refresh claimed it after the ingest committed (an ingest marking while the mark was held waits and writes a
    new one), so it reads the ingest's events."""
    taken = list(
        RollupMark.objects.select_for_update(skip_locked=True).order_by("marked_at", "id")
        .values_list("id", "account_id", "day")[:limit]
    )  # fmt: skip
    if not taken:
        return {"pairs": 0, "rows": 0}
    RollupMark.objects.filter(id__in=[pk for pk, _, _ in taken]).delete()
    return rollups_refresh(account_day_pairs=[(a, d) for _, a, d in taken], claim=False)


@transaction.atomic
def rollups_refresh(*, account_day_pairs: Iterable[tuple[int, dt.date | str]], claim: bool = True) -> dict[str, int]:
    """Recompute the rollups of exactly these (account_id, day) pairs from their raw events (idempotent), and clear
    their stale marks in the same transaction (`claim=False`: the caller did)."""
    pairs = pd.DataFrame(_accepted_pairs(account_day_pairs), columns=["account_id", "day"])
    if pairs.empty:
        return {"pairs": 0, "rows": 0}
    if claim:
        _claim_marks(pairs)
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
    hooks.notify(hooks.USAGE_CHANGED, sorted(int(a) for a in accounts))  # usage feeds the health score
    return {"pairs": len(pairs), "rows": written}


def rollups_sweep(*, older_than: dt.timedelta = SWEEP_AFTER, limit: int = SWEEP_LIMIT) -> dict[str, int]:
    """Refresh the account-days whose marks outlived their refresh task (lost with the broker or a killed worker):
    the oldest first, at most `limit` of them."""
    stale = RollupMark.objects.filter(marked_at__lt=timezone.now() - older_than).order_by("marked_at")
    pairs = list(stale.values_list("account_id", "day")[:limit])
    return rollups_refresh(account_day_pairs=pairs) if pairs else {"pairs": 0, "rows": 0}


@transaction.atomic
def rollups_rebuild(
    *, chunk_days: int = 31, start: dt.date | None = None, end: dt.date | None = None, log=None
) -> dict[str, int]:
    """Rebuild the rollups (and first-use days) from the events, a chunk of days at a time: all of them, or only
    the days from `start` to `end` (inclusive).

    One transaction: readers keep seeing the previous rollups until the new ones commit, and a crash (or a
    cancelled run) leaves the previous rollups as they were. Events dated outside the accepted window (stored
    before every entry door checked it) are skipped and reported, never fatal."""
    accepted = Q(occurred_at__gte=MIN_EVENT_TIME, occurred_at__lte=MAX_EVENT_TIME)
    events = UsageEvent.objects.filter(accepted)
    span = UsageEvent.objects.aggregate(  # one pass over the events
        first=Min("occurred_at", filter=accepted), last=Max("occurred_at", filter=accepted),
        skipped=Count("id", filter=~accepted),
    )  # fmt: skip
    skipped = span["skipped"]
    if skipped and log:
        ids = list(UsageEvent.objects.exclude(accepted).order_by("id").values_list("id", flat=True)[:10])
        log(f"{skipped} events dated outside {EVENT_TIME_RANGE} skipped (ids {', '.join(map(str, ids))})")
    if start is not None or end is not None:
        UsageDaily.objects.filter(day__gte=start or dt.date.min, day__lte=end or dt.date.max).delete()
        RollupMark.objects.filter(day__gte=start or dt.date.min, day__lte=end or dt.date.max).delete()
    else:
        UsageDaily.objects.all().delete()
        FeatureFirstUse.objects.all().delete()
        RollupMark.objects.all().delete()
    if span["first"] is None:
        return {"rows": 0, "days": 0, "skipped": skipped}
    start = max(start or dt.date.min, span["first"].astimezone(dt.UTC).date())
    end = min(end or dt.date.max, span["last"].astimezone(dt.UTC).date())
    rows = 0
    day = start
    while day <= end:
        stop = min(day + dt.timedelta(days=chunk_days), end + dt.timedelta(days=1))
        counts = _event_counts(events.filter(occurred_at__gte=_utc(day), occurred_at__lt=_utc(stop)))
        rows += _write_daily(fold_daily(counts))
        if not counts.empty:
            _merge_first_use(fold_first_use(counts))
        if log:
            log(f"rollups {day} – {stop - dt.timedelta(days=1)}: {rows} rows so far")
        day = stop
    return {"rows": rows, "days": max((end - start).days + 1, 0), "skipped": skipped}
