"""Real Celery workers on PostgreSQL + Redis: a worker SIGKILLed mid-cycle, and two workers evaluating at once."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from accounts.models import Account, Contact, Task
from automations import rules
from automations.models import ExecutionStatus, RuleExecution
from automations.tasks import evaluate_rules
from messaging.email import sending
from messaging.models import EmailMessage, EmailStatus
from tests.factories import UserFactory
from tests.integration.conftest import ROOT, _database_url
from tests.messaging.factories import EmailTemplateFactory

pytestmark = pytest.mark.integration

N_ACCOUNTS = 600


def _start(tmp_path: Path, name: str, *, beat: bool, chunk: int) -> subprocess.Popen:
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.fail("Integration tests need DATABASE_URL (PostgreSQL) and REDIS_URL; run them through .ci/run.")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CHURNAPP_VAR_DIR": str(tmp_path),
        "DEBUG": "true",
        "AUTOMATIONS_RULES_INTERVAL": "2",
        # Small chunks of set-based actions: many transactions, so a kill lands between two of them.
        "AUTOMATIONS_ACTIONS_CHUNK": str(chunk),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    log = open(tmp_path / f"{name}.log", "a")  # noqa: SIM115 — the process owns it until it exits
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "churnapp", "worker", *(["-B"] if beat else []), "--pool=solo",
         "--loglevel=WARNING", "-Q", "default,scoring,email", "-n", f"{name}-{os.getpid()}@localhost"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the embedded beat is a child process of the worker
    )  # fmt: skip


def _stop(proc: subprocess.Popen) -> None:
    """Stop the worker and its embedded beat (a child process that would otherwise outlive it)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.fixture
def workers(transactional_db, tmp_path) -> Iterator[dict]:
    procs: dict[str, subprocess.Popen] = {}
    yield {"procs": procs, "tmp": tmp_path}
    for proc in procs.values():
        _stop(proc)


def _book(n: int) -> None:
    owner = UserFactory(username="olive", email="olive@example.com", role="CSM")
    Account.objects.bulk_create(
        [Account(external_id=f"k-{i}", name=f"Kill Co {i}", owner=owner, health_score=20) for i in range(n)]
    )
    Contact.objects.bulk_create(
        [Contact(account=a, email=f"c{a.pk}@kill.example", name=f"C {a.pk}") for a in Account.objects.all()]
    )
    EmailTemplateFactory(key="check-in", subject="Checking in, {{ account.name }}")


def _rule(enabled: bool = True):
    return rules.rule_save(
        key="low-health", name="Health below 70", enabled=enabled, cooldown_days=30,
        conditions_tree={"all": [{"type": "health_below", "value": 70}]},
        actions_list=[{"type": "create_task", "title": "Follow up {{ account.name }}"},
                      {"type": "send_email", "template": "check-in", "to": "contact"}],
    )  # fmt: skip


def _assert_exactly_once_per_account(n: int) -> None:
    assert RuleExecution.objects.count() == n
    assert not RuleExecution.objects.exclude(status=ExecutionStatus.SUCCEEDED).exists()
    per_account = Task.objects.values("account").annotate(n=Count("id"))
    assert per_account.count() == n and {row["n"] for row in per_account} == {1}
    mails = EmailMessage.objects.values("account").annotate(n=Count("id"))
    assert mails.count() == n and {row["n"] for row in mails} == {1}


def test_worker_killed_mid_cycle_then_restarted_duplicates_nothing_and_misses_nothing(workers, wait_for, settings):
    _book(N_ACCOUNTS)
    _rule()
    first = workers["procs"]["first"] = _start(workers["tmp"], "first", beat=True, chunk=5)

    # Beat (inside the worker) starts a cycle within seconds; kill the worker while it runs the actions.
    wait_for(lambda: RuleExecution.objects.filter(status=ExecutionStatus.SUCCEEDED).count() >= 20,
             timeout=90, message="the cycle to be under way")  # fmt: skip
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    done_at_kill = RuleExecution.objects.filter(status=ExecutionStatus.SUCCEEDED).count()
    assert RuleExecution.objects.filter(status=ExecutionStatus.PENDING).exists(), "killed too late to prove anything"
    assert done_at_kill < N_ACCOUNTS

    workers["procs"]["second"] = _start(workers["tmp"], "second", beat=True, chunk=5)
    wait_for(lambda: not RuleExecution.objects.filter(status=ExecutionStatus.PENDING).exists(),
             timeout=180, message="the restarted worker to finish the pending executions")  # fmt: skip
    # A send task the killed worker had taken but not started is gone with it (Redis gives it back only after the
    # visibility timeout): the recovery sweep (beat, every 5 minutes) sends such messages again — run it now.
    settings.MESSAGING_EMAIL_UNCLAIMED_MINUTES = 0
    sending.email_requeue_stale()
    wait_for(lambda: not EmailMessage.objects.filter(status=EmailStatus.QUEUED, claimed_at__isnull=True).exists(),
             timeout=120, message="the email queue to drain")  # fmt: skip
    # The one it was sending (claimed, never sent) is re-queued once its claim is stale.
    settings.MESSAGING_EMAIL_STALE_CLAIM_MINUTES = 0
    sending.email_requeue_stale()
    wait_for(lambda: EmailMessage.objects.filter(status=EmailStatus.SENT).count() == N_ACCOUNTS,
             timeout=120, message="every email sent")  # fmt: skip
    _assert_exactly_once_per_account(N_ACCOUNTS)


def test_two_workers_evaluating_at_once_never_double_fire(workers, wait_for):
    n = 300
    _book(n)
    _rule()
    workers["procs"]["a"] = _start(workers["tmp"], "a", beat=False, chunk=20)
    workers["procs"]["b"] = _start(workers["tmp"], "b", beat=False, chunk=20)
    for _ in range(6):  # several cycles at once, shared between the two workers
        evaluate_rules.apply_async(queue="default")
    wait_for(lambda: RuleExecution.objects.filter(status=ExecutionStatus.SUCCEEDED).count() == n,
             timeout=180, message="all executions to run")  # fmt: skip
    wait_for(lambda: EmailMessage.objects.filter(status=EmailStatus.SENT).count() == n,
             timeout=120, message="every email sent")  # fmt: skip
    _assert_exactly_once_per_account(n)
