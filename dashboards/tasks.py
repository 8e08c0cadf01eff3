"""Celery tasks of the dashboards app: thin wrappers around services."""

from __future__ import annotations

from celery import chain, shared_task

from accounts.tasks import refresh_account_snapshots
from churnapp.taskpolicy import RETRY_ON_DATABASE
from dashboards import services


@shared_task(
    **RETRY_ON_DATABASE,
    soft_time_limit=1800,
    time_limit=1900,
)
def refresh_kpi_facts() -> dict[str, object]:
    """Periodic: rebuild the KPI facts the dashboard reads (idempotent: a rerun replaces them with the same rows)."""
    run = services.kpi_facts_refresh()
    return {"run": run.pk, "status": run.status, "period_rows": run.period_rows, "cohort_rows": run.cohort_rows}


def revalue_enqueue(code: str) -> None:
    """The `exchange-rates-changed` hook (after commit): the accounts' cached MRR, then the KPI facts, at the new
    rates, in that order (the facts group accounts by their cached figures)."""
    chain(refresh_account_snapshots.si(), refresh_kpi_facts.si()).delay()
