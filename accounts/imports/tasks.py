"""Celery task of the imports: thin, idempotent (a job runs once; a redelivered message finds it claimed)."""

from __future__ import annotations

from celery import shared_task

from accounts.imports.runner import import_jobs_recover, import_run
from accounts.models import ImportJob
from churnapp.queues import Queue
from churnapp.taskpolicy import ACKS_LATE


@shared_task(**ACKS_LATE, soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60, queue=Queue.INGEST.value)
def run_import(job_id: int) -> str:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    return import_run(job=job).status


@shared_task(queue=Queue.INGEST.value)
def recover_stale_imports() -> dict[str, int]:
    """Beat: re-queue imports whose worker died mid-run (stale heartbeat); fail them after repeated deaths."""
    return import_jobs_recover()


def import_enqueue(job_id: int) -> None:
    """The `import-queued` hook (after commit)."""
    run_import.delay(job_id)
