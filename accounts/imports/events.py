"""The fast path for usage events: no ORM object per event; on PostgreSQL a COPY straight into the table (or,
when the batch holds already-stored message ids, COPY into a staging table and INSERT … ON CONFLICT DO NOTHING).

Used by the tracking API, the events bulk endpoint and the events import. After the insert, the accounts'
`last_seen_at` moves forward (one UPDATE) and, once the transaction commits, the health app's incremental rollup
refresh is queued for the touched (account, day) pairs through the `events-ingested` derived-state hook.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterable

import orjson
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from psycopg2.errors import UniqueViolation

from accounts.models import Account, UsageEvent
from churnapp import hooks

_COLUMNS = ("account_id", "user_id", "event_type", "occurred_at", "properties", "message_id", "received_at")
_STAGE = "usage_event_stage"


def derived_message_id(*, account: str | int, occurred_at: dt.datetime, event_type: str, user_id: str,
                       properties: dict) -> str:  # fmt: skip
    """A content hash for events sent without a message id: re-sending the same event adds nothing."""
    text = "|".join(
        [str(account), occurred_at.astimezone(dt.UTC).isoformat(), event_type, user_id or ""]
    ).encode() + orjson.dumps(properties or {}, option=orjson.OPT_SORT_KEYS)
    return "h-" + hashlib.sha1(text, usedforsecurity=False).hexdigest()


def _complete(row: dict, now: dt.datetime) -> tuple:
    properties = row.get("properties") or {}
    message_id = row.get("message_id") or derived_message_id(
        account=row["account_id"],
        occurred_at=row["occurred_at"],
        event_type=row["event_type"],
        user_id=row.get("user_id", ""),
        properties=properties,
    )
    return (
        row["account_id"],
        row.get("user_id") or "",
        row["event_type"],
        row["occurred_at"],
        properties,
        message_id,
        row.get("received_at") or now,
    )


def events_insert(*, rows: Iterable[dict]) -> int:
    """Insert events (account_id, event_type, occurred_at[, user_id, message_id, properties, received_at]).

    Duplicates by message_id are skipped. Returns how many were new. Call inside the caller's transaction.
    """
    now = timezone.now()
    values = [_complete(row, now) for row in rows]
    if not values:
        return 0
    if connection.vendor == "postgresql":
        return _events_insert_postgresql(values)
    ids = [v[5] for v in values]
    known = set(UsageEvent.objects.filter(message_id__in=ids).values_list("message_id", flat=True))
    fresh, seen = [], set()
    for v in values:
        if v[5] not in known and v[5] not in seen:
            seen.add(v[5])
            fresh.append(v)
    UsageEvent.objects.bulk_create(
        [UsageEvent(**dict(zip(_COLUMNS, v, strict=True))) for v in fresh], batch_size=1000, ignore_conflicts=True
    )
    inserted = [(v[0], v[3]) for v in fresh]
    events_after_insert(inserted)
    return len(inserted)


def copy_text(value: str) -> str:
    """Escape a value for COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_buffer(values: list[tuple]) -> io.StringIO:
    buffer = io.StringIO()
    write = buffer.write
    dumps = orjson.dumps
    stamps: dict[dt.datetime, str] = {}  # received_at is mostly one value per batch: format it once
    for account_id, user_id, event_type, occurred_at, properties, message_id, received_at in values:
        received = stamps.get(received_at)
        if received is None:
            received = stamps[received_at] = received_at.isoformat()
        write(
            f"{account_id}\t{copy_text(user_id)}\t{copy_text(event_type)}\t{occurred_at.isoformat()}\t"
            f"{copy_text(dumps(properties).decode())}\t{copy_text(message_id)}\t{received}\n"
        )
    buffer.seek(0)
    return buffer


def _events_insert_postgresql(values: list[tuple]) -> int:
    """COPY the batch straight into the events table (PostgreSQL's fastest write) inside a savepoint. When some
    message id is already stored (a client retry, a re-import) or repeats within the batch, the unique constraint
    stops the COPY; the batch then goes through a staging table and INSERT … SELECT … ON CONFLICT DO NOTHING,
    which skips exactly the duplicates. Either way de-duplication is the database's unique constraint."""
    buffer = _copy_buffer(values)
    columns = ", ".join(_COLUMNS)
    table = UsageEvent._meta.db_table
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
        except UniqueViolation:
            buffer.seek(0)
            return _events_insert_staged(cursor, buffer, columns)
    events_after_insert([(v[0], v[3]) for v in values])
    return len(values)


def _events_insert_staged(cursor, buffer: io.StringIO, columns: str) -> int:
    insert = (
        f"INSERT INTO {UsageEvent._meta.db_table} ({columns}) SELECT {columns} FROM {_STAGE} "
        "ON CONFLICT (message_id) DO NOTHING RETURNING account_id, occurred_at"
    )
    # ON COMMIT DELETE ROWS empties the table at each commit; the DELETE covers a second batch in the same
    # transaction (cheap: the table holds at most the previous batch of this transaction).
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (account_id bigint, user_id text, event_type text, "
        "occurred_at timestamptz, properties jsonb, message_id text, received_at timestamptz) "
        f"ON COMMIT DELETE ROWS; DELETE FROM {_STAGE}"
    )
    cursor.cursor.copy_expert(f"COPY {_STAGE} ({columns}) FROM STDIN", buffer)
    cursor.execute(touch_accounts_sql(insert))
    touched = cursor.fetchall()
    queue_rollups({(account_id, day.isoformat()) for account_id, day, _ in touched})
    return sum(count for _, _, count in touched)


def events_after_insert(inserted: list[tuple[int, dt.datetime]]) -> None:
    """Move last_seen_at forward (one UPDATE) and queue the rollup refresh of the touched days after commit."""
    if not inserted:
        return
    now = timezone.now()
    latest: dict[int, dt.datetime] = {}
    pairs: set[tuple[int, str]] = set()
    for account_id, occurred_at in inserted:
        pairs.add((account_id, occurred_at.astimezone(dt.UTC).date().isoformat()))
        if occurred_at <= now and (account_id not in latest or occurred_at > latest[account_id]):
            latest[account_id] = occurred_at
    if latest and connection.vendor == "postgresql":
        ids = sorted(latest)
        accounts = Account._meta.db_table
        with connection.cursor() as cursor:
            # Rows are locked in id order (no deadlock between concurrent batches) and only moved forward.
            cursor.execute(
                "WITH v AS (SELECT * FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at)), "
                f"locked AS (SELECT a.id, v.at FROM {accounts} a JOIN v ON v.id = a.id "
                "WHERE a.last_seen_at IS NULL OR a.last_seen_at < v.at ORDER BY a.id FOR NO KEY UPDATE OF a) "
                f"UPDATE {accounts} a SET last_seen_at = k.at FROM locked k WHERE a.id = k.id",
                [ids, [latest[pk] for pk in ids]],
            )
    elif latest:
        seen = Case(*[When(pk=pk, then=Value(at)) for pk, at in latest.items()], output_field=DateTimeField())
        Account.objects.filter(pk__in=latest).update(last_seen_at=Greatest(Coalesce(F("last_seen_at"), seen), seen))
    queue_rollups(pairs)


def queue_rollups(pairs: set[tuple[int, str]]) -> None:
    """Tell the derived-state hooks (the health app's rollup refresh) which account-days changed, after commit."""
    if pairs:
        hooks.notify(hooks.EVENTS_INGESTED, sorted([list(p) for p in pairs]))


def touch_accounts_sql(insert: str) -> str:
    """Wrap an `INSERT … RETURNING account_id, occurred_at` (PostgreSQL) so the same statement also moves
    last_seen_at forward and returns (account_id, UTC day, inserted count) per touched day.

    Account rows are locked in id order, so concurrent batches touching the same accounts cannot deadlock.
    """
    accounts = Account._meta.db_table
    return (
        f"WITH ins AS ({insert}), "
        "latest AS (SELECT account_id, max(occurred_at) AS at FROM ins WHERE occurred_at <= now() "
        "GROUP BY account_id), "
        f"locked AS (SELECT a.id, l.at FROM {accounts} a JOIN latest l ON l.account_id = a.id "
        "WHERE a.last_seen_at IS NULL OR a.last_seen_at < l.at ORDER BY a.id FOR NO KEY UPDATE OF a), "
        f"upd AS (UPDATE {accounts} a SET last_seen_at = k.at FROM locked k WHERE a.id = k.id) "
        "SELECT account_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, count(*) FROM ins GROUP BY 1, 2"
    )
