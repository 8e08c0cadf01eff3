"""Running an import job: stream the file in chunks, upsert each chunk, count and report, never hold the file.

Formats are DESIGN.md's "Import formats". Events take a fast path: rows are checked in plain Python and, on
PostgreSQL, loaded with COPY into a temporary staging table, then inserted with one INSERT … SELECT joined to the
accounts (unknown account ids come back as row errors, duplicates are skipped by message_id). Other kinds go
through the same set-based upserts as the REST API, with per-row errors instead of all-or-nothing.
Re-running an import leaves the same state (natural keys, content-derived message ids).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.imports import services
from accounts.imports.events import derived_message_id, events_insert, queue_rollups, touch_accounts_sql
from accounts.imports.readers import UnreadableFile, count_rows, iter_rows
from accounts.models import Account, ImportJob, ImportKind, ImportRowError, ImportStatus, UsageEvent
from churnapp import derived
from churnapp.validation import EVENT_TIME_RANGE, event_time_problem, nul_paths

logger = logging.getLogger(__name__)
CHUNK_ROWS = {ImportKind.EVENTS: 20_000}
DEFAULT_CHUNK_ROWS = 2_000
MAX_STORED_ERRORS = 10_000

KNOWN_COLUMNS = {
    ImportKind.ACCOUNTS: {
        "account_id": "external_id", "name": "name", "domain": "domain", "owner_email": "owner_email",
        "segment": "segment", "tier": "tier", "plan": "plan", "lifecycle_stage": "lifecycle_stage",
        "status": "status", "renewal_date": "renewal_date", "created_at": "created_at", "tags": "tags",
        "billing_customer_id": "billing_customer_id",
    },
    ImportKind.CONTACTS: {
        "contact_id": "external_id", "external_id": "external_id", "account_id": "account", "email": "email",
        "name": "name", "title": "title", "user_id": "user_id", "is_primary": "is_primary",
    },
    ImportKind.SUBSCRIPTIONS: {
        "subscription_id": "external_id", "external_id": "external_id", "account_id": "account",
        "product": "product", "start_date": "start_date", "end_date": "end_date", "mrr": "mrr",
        "quantity": "quantity", "units": "units", "billing_period": "billing_period", "status": "status",
    },
    ImportKind.TICKETS: {
        "ticket_id": "external_id", "account_id": "account", "subject": "subject", "status": "status",
        "priority": "priority", "opened_at": "opened_at", "resolved_at": "resolved_at",
    },
    ImportKind.SURVEYS: {
        "response_id": "external_id", "external_id": "external_id", "account_id": "account",
        "contact_email": "contact_email", "kind": "kind", "score": "score", "comment": "comment",
        "responded_at": "responded_at",
    },
}  # fmt: skip
SERVICE_KIND = {ImportKind.SURVEYS: "surveys"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def map_row(kind: str, raw: dict) -> dict:
    """An import row (DESIGN.md column names) as REST API input; other account columns → custom attributes."""
    columns = KNOWN_COLUMNS[kind]
    row: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for column, value in raw.items():
        if _blank(value):
            continue
        value = value.strip() if isinstance(value, str) else value
        if column in columns:
            target = columns[column]
            if target == "tags" and isinstance(value, str):
                value = [t.strip() for t in value.replace(";", ",").split(",") if t.strip()]
            row[target] = value
        elif kind == ImportKind.ACCOUNTS:
            custom[column] = value
    if custom:
        row["custom_attributes"] = custom
    return row


def _row_problem(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return "Each row must be an object."
    if "__extra__" in raw:
        return "More values than header columns."
    if "__invalid__" in raw:
        return raw["__invalid__"]
    return None


# --- Events ------------------------------------------------------------------------------------------------------


def _parse_time(value: Any) -> dt.datetime:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("event_time is required (ISO 8601).")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"event_time is not ISO 8601: {value[:40]!r}.") from None
    try:
        parsed = (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(f"event_time is out of range ({EVENT_TIME_RANGE}): {value[:40]!r}.") from None
    problem = event_time_problem(parsed)
    if problem:
        raise ValueError(f"event_time {problem[:-1]}: {value[:40]!r}.")
    return parsed


def parse_event(raw: dict) -> tuple[str, str, str, dt.datetime, dict, str]:
    """(account external id, user_id, event_type, occurred_at, properties, message_id) or ValueError."""
    account = raw.get("account_id")
    account = str(account).strip() if account is not None else ""
    if not account:
        raise ValueError("account_id is required.")
    event_type = str(raw.get("event_type") or "").strip()
    if not event_type or len(event_type) > 128:
        raise ValueError("event_type is required (at most 128 characters).")
    occurred_at = _parse_time(raw.get("event_time"))
    user_id = str(raw.get("user_id") or "").strip()
    if len(user_id) > 128:
        raise ValueError("user_id is longer than 128 characters.")
    properties = raw.get("properties") or {}
    if isinstance(properties, str):
        try:
            properties = orjson.loads(properties)
        except orjson.JSONDecodeError:
            raise ValueError("properties is not valid JSON.") from None
    if not isinstance(properties, dict):
        raise ValueError("properties must be a JSON object.")
    if nul_paths([account, event_type, user_id, properties, raw.get("message_id") or ""]):
        raise ValueError("Values must not contain NUL (\\u0000) characters.")
    message_id = str(raw.get("message_id") or "").strip()
    if len(message_id) > 128:
        raise ValueError("message_id is longer than 128 characters.")
    message_id = message_id or derived_message_id(
        account=account, occurred_at=occurred_at, event_type=event_type, user_id=user_id, properties=properties
    )
    return account, user_id, event_type, occurred_at, properties, message_id


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


_STAGE = "import_event_stage"


def _events_chunk_postgres(parsed: list[tuple[int, tuple]]) -> tuple[int, int, list[dict]]:
    buffer = io.StringIO()
    for number, (account, user_id, event_type, occurred_at, properties, message_id) in parsed:
        buffer.write(
            f"{number}\t{_copy_text(account)}\t{_copy_text(user_id)}\t{_copy_text(event_type)}\t"
            f"{occurred_at.isoformat()}\t{_copy_text(orjson.dumps(properties).decode())}\t{_copy_text(message_id)}\n"
        )
    buffer.seek(0)
    table = UsageEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (row_number integer, account_ext text, user_id text, "
            "event_type text, occurred_at timestamptz, properties jsonb, message_id text) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {_STAGE}")  # also when an outer transaction keeps ON COMMIT from clearing it
        cursor.cursor.copy_expert(
            f"COPY {_STAGE} (row_number, account_ext, user_id, event_type, occurred_at, properties, message_id) "
            "FROM STDIN",
            buffer,
        )
        cursor.execute(
            f"SELECT s.row_number, s.account_ext FROM {_STAGE} s LEFT JOIN {Account._meta.db_table} a "
            "ON a.external_id = s.account_ext WHERE a.id IS NULL"
        )
        unknown = cursor.fetchall()
        cursor.execute(
            touch_accounts_sql(
                f"INSERT INTO {table} (account_id, user_id, event_type, occurred_at, properties, message_id, "
                f"received_at) SELECT a.id, s.user_id, s.event_type, s.occurred_at, s.properties, s.message_id, now() "
                f"FROM {_STAGE} s JOIN {Account._meta.db_table} a ON a.external_id = s.account_ext "
                "ON CONFLICT (message_id) DO NOTHING RETURNING account_id, occurred_at"
            )
        )
        touched = cursor.fetchall()
    inserted = sum(count for _, _, count in touched)
    queue_rollups({(account_id, day.isoformat()) for account_id, day, _ in touched})
    errors = [{"index": n, "errors": {"account_id": [f"Unknown account {ext!r}."]}} for n, ext in unknown]
    return inserted, len(parsed) - len(unknown) - inserted, errors


def _events_chunk_generic(parsed: list[tuple[int, tuple]]) -> tuple[int, int, list[dict]]:
    accounts = dict(Account.objects.filter(external_id__in={p[0] for _, p in parsed}).values_list("external_id", "pk"))
    rows, errors = [], []
    for number, (account, user_id, event_type, occurred_at, properties, message_id) in parsed:
        if account not in accounts:
            errors.append({"index": number, "errors": {"account_id": [f"Unknown account {account!r}."]}})
            continue
        rows.append({"account_id": accounts[account], "user_id": user_id, "event_type": event_type,
                     "occurred_at": occurred_at, "properties": properties, "message_id": message_id})  # fmt: skip
    created = events_insert(rows=rows)
    return created, len(rows) - created, errors


def events_chunk(chunk: list[tuple[int, Any]]) -> tuple[int, int, list[dict]]:
    """Import a chunk of event rows: (created, skipped duplicates, row errors)."""
    parsed, errors = [], []
    for number, raw in chunk:
        problem = _row_problem(raw)
        if problem:
            errors.append({"index": number, "errors": {"non_field_errors": [problem]}})
            continue
        try:
            parsed.append((number, parse_event(raw)))
        except ValueError as exc:
            errors.append({"index": number, "errors": {"non_field_errors": [str(exc)]}})
    if not parsed:
        return 0, 0, errors
    with transaction.atomic():
        if connection.vendor == "postgresql":
            created, skipped, more = _events_chunk_postgres(parsed)
        else:
            created, skipped, more = _events_chunk_generic(parsed)
    return created, skipped, errors + more


# --- Other kinds ------------------------------------------------------------------------------------------------


def rows_chunk(kind: str, chunk: list[tuple[int, Any]]) -> tuple[int, int, int, list[dict]]:
    """Upsert a chunk of rows: (created, updated, unchanged, row errors)."""
    rows, errors = [], []
    for number, raw in chunk:
        problem = _row_problem(raw)
        if problem:
            errors.append({"index": number, "errors": {"non_field_errors": [problem]}})
        else:
            rows.append((number, map_row(kind, raw)))
    result, more = services.chunk_upsert(kind=SERVICE_KIND.get(kind, kind), rows=rows)
    return result.created, result.updated, result.unchanged, errors + more


# --- Jobs -------------------------------------------------------------------------------------------------------


def _capped(rows: Iterable, cap: int, over: list[bool]) -> Iterator:
    """The first `cap` rows; marks `over` when there are more (JSON arrays, whose rows are not counted up front)."""
    for count, row in enumerate(rows, start=1):
        if count > cap:
            over.append(True)
            return
        yield row


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _error_text(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(messages)}" if field != "non_field_errors" else " ".join(messages)
                     for field, messages in errors.items())  # fmt: skip


def _import_chunk(job: ImportJob, chunk: list[tuple[int, Any]], stored_errors: int) -> int:
    """Upsert one chunk, store its row errors and move the counters and heartbeat; returns errors stored."""
    if job.kind == ImportKind.EVENTS:
        created, skipped, errors = events_chunk(chunk)
        updated = 0
    else:
        created, updated, skipped, errors = rows_chunk(job.kind, chunk)
    keep = errors[: max(0, MAX_STORED_ERRORS - stored_errors)]
    raw_by_number = dict(chunk)
    ImportRowError.objects.bulk_create(
        [
            ImportRowError(
                job=job,
                row_number=e["index"],
                message=_error_text(e["errors"]),
                raw=orjson.dumps(raw_by_number.get(e["index"]), default=str).decode()[:2000],
            )
            for e in keep
        ]
    )
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=F("processed_rows") + len(chunk),
        created_count=F("created_count") + created,
        updated_count=F("updated_count") + updated,
        skipped_count=F("skipped_count") + skipped,
        failed_count=F("failed_count") + len(errors),
        heartbeat_at=timezone.now(),
    )
    return len(keep)


# An import whose heartbeat is older than this is taken for dead (its worker was killed or lost); chunks take
# seconds, so minutes without a heartbeat mean nobody is running it.
IMPORT_STALE_AFTER = dt.timedelta(minutes=10)
IMPORT_MAX_ATTEMPTS = 3


def import_jobs_recover(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Re-queue running imports whose heartbeat is stale (they resume after the rows already done); after
    IMPORT_MAX_ATTEMPTS runs, or without a stored file to resume from, mark them failed with the reason."""
    from accounts.imports.tasks import run_import

    now = now or timezone.now()
    cutoff = now - IMPORT_STALE_AFTER
    stale = ImportJob.objects.filter(status=ImportStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    kept = "Rows imported so far are kept; importing the same file again is safe (it is idempotent)."
    giving_up = list(stale.filter(Q(attempts__gte=IMPORT_MAX_ATTEMPTS) | Q(file="")).values_list("pk", flat=True))
    failed = ImportJob.objects.filter(pk__in=giving_up, status=ImportStatus.RUNNING).update(
        status=ImportStatus.FAILED,
        finished_at=now,
        error=Case(
            When(file="", then=Value(f"The import stopped without finishing (its process ended). {kept}")),
            default=Value(
                f"The import stopped {IMPORT_MAX_ATTEMPTS} times without finishing (its worker died each time). {kept}"
            ),
        ),
    )
    for job in ImportJob.objects.filter(pk__in=giving_up, status=ImportStatus.FAILED):
        _emit_finished(job)
    with transaction.atomic():
        ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True))
        ImportJob.objects.filter(pk__in=ids, status=ImportStatus.RUNNING).update(status=ImportStatus.QUEUED)
        for pk in ids:
            transaction.on_commit(lambda pk=pk: run_import.delay(pk))
    return {"requeued": len(ids), "failed": failed}


def import_job_create(*, kind: str, upload, created_by=None) -> ImportJob:
    """Store an uploaded file and queue its import (the task runs after commit)."""
    from accounts.imports.tasks import run_import

    job = ImportJob.objects.create(kind=kind, file=upload, original_name=upload.name[:255], created_by=created_by)
    transaction.on_commit(lambda: run_import.delay(job.pk))
    return job


def import_run(
    *, job: ImportJob, source: IO[bytes] | None = None, progress: Callable[[ImportJob], None] | None = None
) -> ImportJob:
    """Run a queued job once (a second call, or a retried task, does nothing): stream, upsert, count, report.

    Each chunk commits together with the job's counters and heartbeat, so a job re-queued after its worker died
    (`import_jobs_recover`) resumes after the rows already counted and the totals stay exact."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=Coalesce("started_at", Value(now)), heartbeat_at=now,
        attempts=F("attempts") + 1,
    )  # fmt: skip
    if not claimed:
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    done_rows = job.processed_rows  # > 0 when resuming
    stored_errors = ImportRowError.objects.filter(job=job).count()
    try:
        stream = source or job.file.open("rb")
        name = job.original_name or job.file.name
        total = count_rows(stream, name)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=total, heartbeat_at=timezone.now())
        cap = settings.IMPORT_MAX_ROWS
        if total is not None and total > cap:
            raise UnreadableFile(
                f"The file has {total:,} rows; an import takes at most {cap:,} (IMPORT_MAX_ROWS): split the file."
            )
        size = CHUNK_ROWS.get(job.kind, DEFAULT_CHUNK_ROWS)
        over: list[bool] = []
        rows = _capped(iter_rows(stream, name, settings.IMPORT_MAX_ROW_KB * 1024), cap, over)
        for chunk in _chunks(itertools.islice(rows, done_rows, None), size):
            with transaction.atomic():
                stored_errors += _import_chunk(job, chunk, stored_errors)
            if progress:
                job.refresh_from_db()
                progress(job)
        if over:
            raise UnreadableFile(
                f"The file has more than {cap:,} rows (IMPORT_MAX_ROWS): the first {cap:,} were imported; split the "
                f"file to import the rest."
            )
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, finished_at=timezone.now())
    except UnreadableFile as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, error=str(exc), finished_at=timezone.now()
        )
    except Exception as exc:
        # Rows written so far stay (re-running the file is idempotent); the job says why it stopped.
        logger.exception("Import %s failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, error=f"Unexpected error: {exc}"[:2000], finished_at=timezone.now()
        )
    finally:
        if source is None and job.file:
            job.file.close()
    job.refresh_from_db()
    _emit_finished(job)
    return job


def _emit_finished(job: ImportJob) -> None:
    """`import.finished` (done or failed) with the job's summary."""
    summary = {
        "import_id": job.pk,
        "kind": job.kind,
        "file": job.original_name,
        "status": job.status,
        "rows": job.processed_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "failed": job.failed_count,
        "error": job.error,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
    derived.notify(derived.IMPORT_FINISHED, [summary])
