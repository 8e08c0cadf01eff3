"""Running an import job: stream the file in chunks, upsert each chunk, count and report, never hold the file.

Formats are DESIGN.md's "Import formats"; `accounts.imports.chunks` writes each chunk (events by a fast path,
other kinds through the same set-based upserts as the REST API, with per-row errors instead of all-or-nothing).
Re-running an import leaves the same state (natural keys, content-derived message ids).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.imports.chunks import events_chunk, rows_chunk
from accounts.imports.readers import UnreadableFile, count_rows, iter_rows
from accounts.models import ImportJob, ImportKind, ImportRowError, ImportStatus
from audit.context import Actor, acting
from audit.models import ActorKind, Door
from churnapp import hooks

logger = logging.getLogger(__name__)
CHUNK_ROWS = {ImportKind.EVENTS: 20_000}
DEFAULT_CHUNK_ROWS = 2_000
MAX_STORED_ERRORS = 10_000


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
            hooks.notify(hooks.IMPORT_QUEUED, pk)
    return {"requeued": len(ids), "failed": failed}


def import_job_create(*, kind: str, upload, created_by=None) -> ImportJob:
    """Store an uploaded file and queue its import (the task runs after commit)."""
    job = ImportJob.objects.create(kind=kind, file=upload, original_name=upload.name[:255], created_by=created_by)
    hooks.notify(hooks.IMPORT_QUEUED, job.pk)
    return job


def import_actor(job: ImportJob) -> Actor:
    """An import's rows are written by the job, started by the person who uploaded the file."""
    return Actor(ActorKind.IMPORT, str(job.pk), job.original_name or job.file.name, job.created_by_id)


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
            with transaction.atomic(), acting(door=Door.IMPORT, actor=import_actor(job)):
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
    hooks.notify(hooks.IMPORT_FINISHED, [summary])
