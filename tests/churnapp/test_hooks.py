"""Derived-state hooks: every ingest path refreshes the rollups, in any process, checked at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks

from churnapp import hooks

ROOT = Path(__file__).resolve().parents[2]

WEB_PROCESS = """
import json, django
django.setup()  # what gunicorn's WSGI module does: no task module is imported by hand
from celery.app.task import Task
sent = []
Task.apply_async = lambda self, args=None, kwargs=None, **options: sent.append([self.name, args])
from health import rollups  # the stale marks are recorded, not written (no database here)
marked = []
rollups.marks_upsert = lambda model, keys, **options: marked.extend([a, str(d)] for a, d in keys)
from accounts.imports.events import queue_rollups
queue_rollups({(7, "2024-06-01")})
print(json.dumps({"sent": sent, "marked": marked}))
"""


def test_ingest_in_a_web_like_process_enqueues_the_rollup_refresh():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "churnapp.settings", "DEBUG": "true"}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)  # the process only marks (recorded) and enqueues: no database server needed
    out = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "sent": [["health.tasks.refresh_rollups", [[[7, "2024-06-01"]]]]],
        "marked": [[7, "2024-06-01"]],
    }


def test_the_start_up_check_fails_when_an_expected_hook_is_missing(monkeypatch):
    assert hooks.check_hooks() == []
    monkeypatch.setattr(hooks, "_hooks", {})
    errors = hooks.check_hooks()
    assert {e.id for e in errors} == {"churnapp.E001"} and {e.level for e in errors} == {checks.ERROR}
    names = sorted(e.msg.split("'")[1] for e in errors)
    assert names == sorted(hooks.EXPECTED)
    assert {"events-ingested", "facts-changed", "usage-changed", "scores-changed", "task.created"} <= set(names)


def test_the_check_runs_with_the_project_checks():
    ids = {e.id for e in checks.run_checks()}
    assert "churnapp.E001" not in ids


@pytest.mark.django_db
def test_hooks_run_only_after_the_ingest_transaction_commits(django_capture_on_commit_callbacks):
    from django.db import transaction

    calls = []
    hooks.register("test-hook", calls.append)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            hooks.notify("test-hook", [[1, "2024-06-01"]])
            assert calls == []
        assert calls == [[[1, "2024-06-01"]]]
    finally:
        hooks._hooks.pop("test-hook")


def test_a_broker_outage_after_commit_is_logged_not_raised(monkeypatch, caplog):
    from kombu.exceptions import OperationalError

    from health import tasks

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.refresh_rollups, "delay", down)
    tasks.rollups_enqueue([[1, "2024-06-01"]])
    assert "Broker unreachable" in caplog.text
