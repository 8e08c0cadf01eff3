"""Celery tasks of the accounts app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from accounts import services
from accounts.imports.tasks import run_import  # noqa: F401  (registers the import task with Celery)
from accounts.services import bulk_edits
from churnapp.taskpolicy import RETRY_ON_DATABASE


@shared_task(**RETRY_ON_DATABASE, soft_time_limit=300, time_limit=360)
def refresh_account_snapshots() -> dict[str, int]:
    """Periodic: cached MRR, seats, renewal date and status of every account (idempotent)."""
    return services.account_refresh_snapshots()


@shared_task(**RETRY_ON_DATABASE, soft_time_limit=3600, time_limit=3660)
def run_bulk_edit(job_id: int) -> str:
    """A confirmed bulk edit too large to run in the request; resumes where a dead worker stopped."""
    return bulk_edits.bulk_edit_run(job_id=job_id).status


@shared_task(**RETRY_ON_DATABASE)
def recover_stale_bulk_edits() -> dict[str, int]:
    """Beat: bulk edits whose message or worker was lost are queued again (or failed after repeated deaths)."""
    return bulk_edits.bulk_edits_recover()


def bulk_edit_enqueue(job_id: int) -> None:
    """The `bulk-edit-queued` hook (after commit)."""
    run_bulk_edit.delay(job_id)
