"""Celery tasks of the accounts app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from accounts import services
from accounts.imports.tasks import run_import  # noqa: F401  (registers the import task with Celery)
from churnapp.taskpolicy import RETRY_ON_DATABASE


@shared_task(**RETRY_ON_DATABASE, soft_time_limit=300, time_limit=360)
def refresh_account_snapshots() -> dict[str, int]:
    """Periodic: cached MRR, seats, renewal date and status of every account (idempotent)."""
    return services.account_refresh_snapshots()
