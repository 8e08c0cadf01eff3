"""Celery tasks of the health app: thin, idempotent wrappers around services."""

from __future__ import annotations

import datetime as dt
import logging
import time

from celery import shared_task
from django.core.cache import cache
from kombu.exceptions import OperationalError as BrokerError

from churnapp.queues import Queue
from churnapp.taskpolicy import RETRY_ON_DATABASE
from health import services

logger = logging.getLogger(__name__)
RESCORE_QUEUED_KEY = "health:rescore-queued"
FULL_RUN_QUEUED_KEY = "health:full-run-queued"

RETRY = {**RETRY_ON_DATABASE, "queue": Queue.SCORING.value}


@shared_task(**RETRY, soft_time_limit=300, time_limit=360)
def refresh_rollups(account_day_pairs: list[list]) -> dict[str, int]:
    """After ingestion: recompute the daily rollups of every marked account-day, the ingest's among them (its
    pairs name what queued it; a backlog of these tasks coalesces: see `rollups_refresh_marked`)."""
    return services.rollups_refresh_marked()


@shared_task(**RETRY, soft_time_limit=300, time_limit=360)
def sweep_rollup_marks() -> dict[str, int]:
    """Every minute: refresh the account-days whose refresh task was lost (broker outage, killed worker)."""
    return services.rollups_sweep()


@shared_task(**RETRY, soft_time_limit=50, time_limit=60)
def rescore_accounts() -> dict:
    """Rescore the accounts marked stale, a batch at a time, until none is left (or the time is up: the next
    run goes on). Queued after every fact that feeds the health score, and every 15 seconds by beat."""
    deadline = time.monotonic() + 40
    total = {"accounts": 0, "batches": 0}
    longest = 0.0
    # A batch is not started unless twice the longest one so far fits before the deadline (the time limit would
    # roll it back: the next run goes on instead).
    while time.monotonic() + 2 * longest < deadline:
        started = time.monotonic()
        result = services.rescore_marked()
        longest = max(longest, time.monotonic() - started)
        if result.get("day_scored") is False:
            # Nothing to rank among before the day's full run: queue it (once), it scores every account.
            if cache.add(FULL_RUN_QUEUED_KEY, 1, timeout=15 * 60):
                recompute_health.delay()
            break
        if not result["accounts"]:
            break
        total["accounts"] += result["accounts"]
        total["batches"] += 1
    return total


def rescore_enqueue(account_ids: list[int]) -> None:
    """The `facts-changed` hook (after commit): queue one rescoring for every burst of facts.

    A short-lived cache key keeps a flood of ingests from queueing a task each: the task queued for the first fact
    of a burst runs a second later and takes every mark written by then; a later mark waits for the next burst or
    the 15-second sweep."""
    try:
        if not cache.add(RESCORE_QUEUED_KEY, 1, timeout=1):
            return
    except Exception:  # noqa: BLE001 — the cache being down only costs the de-duplication
        logger.warning("Cache unreachable: queueing a rescoring without de-duplication.")
    try:
        rescore_accounts.apply_async(countdown=1)
    except BrokerError:
        logger.warning("Broker unreachable: %d accounts wait for the rescoring sweep.", len(account_ids))


def rollups_enqueue(account_day_pairs: list[list]) -> None:
    """The `events-ingested` hook (runs after the ingest transaction committed): queue the incremental refresh.

    The events and their stale marks are already stored; with the broker down the sweep refreshes them once it is
    back, rather than failing a write that succeeded."""
    try:
        refresh_rollups.delay(account_day_pairs)
    except BrokerError:
        logger.warning("Broker unreachable: rollups of %d account-days wait for the sweep.", len(account_day_pairs))


@shared_task(**RETRY, soft_time_limit=120, time_limit=150)
def repredict_accounts(account_ids: list[int]) -> dict:
    """After a rescoring: the promoted churn model's predictions of the rescored accounts (the daily predictions
    reconcile a lost one)."""
    return services.churn_predict(account_ids=account_ids)


def repredict_enqueue(account_ids: list[int]) -> None:
    """The `scores-changed` hook (after commit): re-predict the rescored accounts, off the rules' path."""
    try:
        repredict_accounts.delay(list(account_ids))
    except BrokerError:
        logger.warning("Broker unreachable: %d accounts keep today's churn prediction.", len(account_ids))


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


# --- Hooks (registered in HealthConfig.ready, run after commit) -------------------------------------------------------


def recompute_enqueue(_version_id: int) -> None:
    """A profile was published: every account is scored again with it."""
    recompute_health.delay()


def lab_run_enqueue(run_id: int) -> None:
    run_churn_lab.delay(run_id)
