"""Every task of the project survives a lost worker and a stuck call the same way (churnapp.taskpolicy)."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from churnapp.celery import app

# Tasks whose own sweep or next tick takes over from a failure, so they do not retry the database themselves.
NO_DATABASE_RETRY = {
    "accounts.imports.tasks.recover_stale_imports",  # runs again at the next beat
    "accounts.imports.tasks.run_import",  # a dead run is re-queued from its heartbeat by recover_stale_imports
    "automations.tasks.advance_enrolment",  # the advance_playbooks sweep takes every due step
    "automations.tasks.advance_enrolments",
    "automations.tasks.evaluate_crossings",  # a 15-second tick, resumed from its checkpoint
    "automations.tasks.evaluate_rules_for_accounts",  # the recent-facts minute and the full cycle catch up
    "automations.tasks.evaluate_rules_recent",
    "churnapp.tasks.heartbeat",
    "messaging.tasks.post_to_slack",  # retries network failures instead
    "messaging.tasks.send_email",  # retries by the outbox row; requeue_stale_emails recovers lost ones
}


def project_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_project_tasks_are_found() -> None:
    assert len(project_tasks()) >= 30


@pytest.mark.parametrize("name", sorted(project_tasks()))
def test_task_is_acknowledged_late_and_bounded(name: str) -> None:
    task = project_tasks()[name]
    assert task.acks_late and task.reject_on_worker_lost, f"{name}: a worker lost mid-task must leave it redelivered"
    assert task.soft_time_limit, f"{name}: no soft time limit"
    assert not task.time_limit or task.time_limit > task.soft_time_limit, f"{name}: the hard limit comes first"


@pytest.mark.parametrize("name", sorted(set(project_tasks()) - NO_DATABASE_RETRY))
def test_task_retries_a_lost_database(name: str) -> None:
    task = project_tasks()[name]
    assert OperationalError in tuple(getattr(task, "autoretry_for", ())), f"{name}: use taskpolicy.RETRY_ON_DATABASE"
    assert task.retry_backoff


def test_exceptions_name_existing_tasks() -> None:
    assert NO_DATABASE_RETRY <= set(project_tasks())
