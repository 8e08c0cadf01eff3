"""Celery tasks of the health app: thin, idempotent wrappers around services."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerError

from churnapp.celery import Queue
from health import services

logger = logging.getLogger(__name__)

RETRY = {
    "queue": Queue.SCORING.value,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 3,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(**RETRY, soft_time_limit=300, time_limit=360)
def refresh_rollups(account_day_pairs: list[list]) -> dict[str, int]:
    """After ingestion: recompute the daily rollups of the affected [account_id, "YYYY-MM-DD"] pairs."""
    return services.rollups_refresh(account_day_pairs=account_day_pairs)


@shared_task(**RETRY, soft_time_limit=300, time_limit=360)
def sweep_rollup_marks() -> dict[str, int]:
    """Every minute: refresh the account-days whose refresh task was lost (broker outage, killed worker)."""
    return services.rollups_sweep()


def rollups_enqueue(account_day_pairs: list[list]) -> None:
    """The `events-ingested` hook (runs after the ingest transaction committed): queue the incremental refresh.

    The events and their stale marks are already stored; with the broker down the sweep refreshes them once it is
    back, rather than failing a write that succeeded."""
    try:
        refresh_rollups.delay(account_day_pairs)
    except BrokerError:
        logger.warning("Broker unreachable: rollups of %d account-days wait for the sweep.", len(account_day_pairs))


@shared_task(**RETRY, soft_time_limit=1800, time_limit=1900)
def recompute_health(day: str | None = None) -> dict:
    """Nightly (and after a profile is published): metrics and health snapshots of every account for a day."""
    return services.health_recompute(day=dt.date.fromisoformat(day) if day else None)


@shared_task(**RETRY, soft_time_limit=3600, time_limit=3700)
def train_churn_model() -> dict:
    """Weekly: rebuild observations, train, promote only if better on the holdout."""
    version = services.churn_model_train()
    return {"model": version.pk, "status": version.status, "message": version.message}


@shared_task(**RETRY, soft_time_limit=1800, time_limit=1900)
def predict_churn(day: str | None = None) -> dict:
    """Daily: churn probability, drivers and expected revenue saved for every active account."""
    return services.churn_predict(day=dt.date.fromisoformat(day) if day else None)


@shared_task(**RETRY, soft_time_limit=1800, time_limit=1900)
def run_churn_lab(run_id: int) -> dict:
    """On request: evaluate every churn-model candidate on the run's split (claimed once)."""
    run = services.lab_run_execute(run_id=run_id)
    return {"run": run_id, "status": run.status if run else "already claimed"}
