"""Fault suite for incremental health (issue 17): the stale marks live in PostgreSQL, so a rescoring lost with a
killed worker or a restarted Redis costs time, never an account; and a flood of facts for one account delays no
other account's rescoring. Real PostgreSQL, Redis, gunicorn and Celery worker processes."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg2
import pytest
import redis
import requests
from django.db import connection
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account, SurveyResponse, Task
from automations.models import Rule
from churnapp.apikeys import api_key_create
from health.models import AccountMetrics, HealthSnapshot, ScoreMark
from health.rescore import rescore_marked, scores_mark
from health.scores import SCORING_LOCK
from health.services import health_recompute
from health.tasks import recompute_health, rescore_accounts
from tests.factories import AccountFactory, SubscriptionFactory, UserFactory
from tests.integration.conftest import (
    free_port,
    start_gunicorn,
    start_redis,
    start_worker,
    stop_process,
    stop_redis,
    stop_worker,
)
from tests.integration.load import acked_ids, run_load

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TITLE = "Detractor: call"


def _book(n: int, *, prefix: str = "acc") -> list[Account]:
    """`n` accounts of one CSM with a subscription each, scored by a full run of today, no mark left."""
    csm = UserFactory(username="casey", role="CSM")
    accounts = [AccountFactory(external_id=f"{prefix}-{i}", owner=csm) for i in range(n)]
    for i, account in enumerate(accounts):
        SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1), quantity=2 + i % 5, mrr=100 + 10 * i)
    health_recompute()
    ScoreMark.objects.all().delete()
    return accounts


def _detractor_rule() -> Rule:
    return Rule.objects.create(key="detractor-now", name="Detractor", enabled=True,
                               conditions={"all": [{"type": "nps_at_most", "value": 6}]},
                               actions=[{"type": "create_task", "title": TITLE + " {{ account.name }}"}])  # fmt: skip


@pytest.fixture
def broker(tmp_path) -> Iterator[str]:
    """A Redis of the test's own for its web and worker processes: no message left by an earlier run (a flood's
    backlog, say) reaches its worker, and none of its messages outlives it."""
    port = free_port()
    proc = start_redis(port, tmp_path)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_redis(proc)


def _ready(log: Path, wait_for) -> None:
    wait_for(lambda: log.exists() and " ready." in log.read_text(), timeout=60, message=f"the worker of {log.name}")


def _publish(task, broker: str) -> str:
    """Queue `task` on the test's own broker (the test process's settings point elsewhere); its message id."""
    with task.app.connection_for_write(broker) as broker_connection:
        return task.apply_async(connection=broker_connection).id


def _rescored(ids: list[int], nps: int) -> set[int]:
    """Those of `ids` rescored with their answer: today's metrics carry it (only a rescoring of the account itself
    writes them) and no mark is left (the rescoring that took it committed)."""
    with_answer = set(
        AccountMetrics.objects.filter(day=timezone.localdate(), account_id__in=ids, nps=nps).values_list(
            "account_id", flat=True
        )
    )
    return with_answer - set(ScoreMark.objects.filter(account_id__in=ids).values_list("account_id", flat=True))


def _tasks(ids: list[int]) -> Counter[int]:
    return Counter(
        Task.objects.filter(account_id__in=ids, title__startswith=TITLE).values_list("account_id", flat=True)
    )


def _scored_at(ids: list[int]) -> dict[int, dt.datetime]:
    return dict(
        HealthSnapshot.objects.filter(day=timezone.localdate(), account_id__in=ids).values_list(
            "account_id", "scored_at"
        )
    )


# --- A worker SIGKILLed mid-batch -------------------------------------------------------------------------------------


@pytest.fixture
def own_connection() -> Iterator[psycopg2.extensions.connection]:
    """A connection of the test's own to the test database (autocommit), apart from Django's."""
    db = connection.settings_dict
    conn = psycopg2.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                            dbname=db["NAME"])  # fmt: skip
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()  # a session lock still held goes with it


def _query(conn, sql: str, params: tuple = ()) -> list[tuple]:
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _lock_waiters() -> list[int]:
    """Backends of the test database waiting for the scoring lock (read on Django's connection, outside any
    transaction: one would see a frozen pg_stat_activity)."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1 AND NOT l.granted
              AND a.datname = current_database()""", [SCORING_LOCK])  # fmt: skip
        return [row[0] for row in cursor.fetchall()]


def _marks(conn) -> tuple[int, int]:
    """(marks visible to others, of them not row-locked by anyone): a claimed mark stays visible, locked, until the
    claiming transaction commits its delete."""
    table = ScoreMark._meta.db_table
    with conn.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 — the model's table name
            visible = cursor.fetchone()[0]
            cursor.execute(f"SELECT account_id FROM {table} FOR UPDATE SKIP LOCKED")  # noqa: S608
            free = len(cursor.fetchall())
        finally:
            cursor.execute("ROLLBACK")
    return visible, free


def _task_ids(log: str, task: str = "health.tasks.rescore_accounts") -> set[str]:
    return set(re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] received", log))


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(tmp_path, wait_for, own_connection, broker):
    accounts = _book(60)
    _detractor_rule()
    marked = [a.pk for a in accounts[:50]]
    before = _scored_at(marked)
    for account in accounts[:50]:
        account_services.survey_response_create(account=account, kind="nps", score=2)
    assert ScoreMark.objects.count() == 50
    # One of the accounts' rows held by someone else (a CSM's edit, say): the worker's rescoring blocks in its
    # transaction where it caches health on the accounts, after it claimed the marks and computed the scores.
    _query(own_connection, "BEGIN")
    _query(own_connection, f"SELECT id FROM {Account._meta.db_table} WHERE id = %s FOR NO KEY UPDATE", (marked[0],))  # noqa: S608
    own_pid = _query(own_connection, "SELECT pg_backend_pid()")[0][0]
    worker = start_worker(tmp_path, name="-a", extra_env={"REDIS_URL": broker})
    try:
        _ready(tmp_path / "worker-a.log", wait_for)
        claimed_task_ids = {_publish(rescore_accounts, broker)}  # as queued after the answers
        wait_for(lambda: _blocked_by(own_pid), timeout=60, message="the rescoring to wait for the account row")
        wait_for(lambda: _marks(own_connection) == (50, 0), timeout=10, message="the worker to claim every mark")
        os.killpg(worker.pid, signal.SIGKILL)  # mid-batch: 50 marks claimed, scores computed, nothing committed
        worker.wait(timeout=10)
        killed = time.monotonic()
        # Its backend does not notice yet: it waits on, holding the claimed marks, until the row is free.
        orphan_waiting = bool(_blocked_by(own_pid))
        _query(own_connection, "ROLLBACK")
        wait_for(lambda: _marks(own_connection) == (50, 50), timeout=30, message="the killed claim to roll back")
        marks_back = time.monotonic() - killed
        assert set(ScoreMark.objects.values_list("account_id", flat=True)) == set(marked)
        assert _rescored(marked, 2) == set()

        worker = start_worker(tmp_path, beat=True, name="-b", extra_env={"REDIS_URL": broker})
        wait_for(lambda: _rescored(marked, 2) == set(marked), timeout=90, message="every marked account rescored")
        rescored = time.monotonic() - killed
        wait_for(lambda: len(_tasks(marked)) == 50, timeout=90, message="the rule's task of every account")
        tasks_at = time.monotonic() - killed
        # The killed worker's messages are redelivered (visibility timeout) and run again: they find nothing left.
        log_b = tmp_path / "worker-b.log"
        wait_for(lambda: claimed_task_ids <= _task_ids(log_b.read_text()), timeout=120,
                 message="the killed worker's rescoring messages redelivered")  # fmt: skip
        wait_for(lambda: all(f"rescore_accounts[{i}] succeeded" in log_b.read_text() for i in claimed_task_ids),
                 timeout=60, message="the redelivered rescorings to finish")  # fmt: skip
        redelivered = time.monotonic() - killed
    finally:
        stop_worker(worker, tmp_path / "worker-b.log")
    after = _scored_at(marked)
    tasks = _tasks([a.pk for a in accounts])
    row = {"scenario": "worker SIGKILLed holding 50 claimed marks", "orphan_backend_kept_waiting": orphan_waiting,
           "marks_back_s": round(marks_back, 1), "all_rescored_s": round(rescored, 1),
           "all_tasks_s": round(tasks_at, 1), "redelivered_s": round(redelivered, 1),
           "redelivered_messages": len(claimed_task_ids), "tasks": sum(tasks.values())}  # fmt: skip
    print("FAULT", orjson.dumps(row).decode())
    assert all(after[pk] > before[pk] for pk in marked)
    assert not ScoreMark.objects.exists()
    assert tasks == Counter(dict.fromkeys(marked, 1))  # one task per answered account, none for the others


# --- Redis restarted --------------------------------------------------------------------------------------------------


def test_redis_restarted_loses_no_rescoring(tmp_path, wait_for):
    n = 20
    accounts = _book(n + 5)
    _detractor_rule()
    answered = [a.pk for a in accounts[:n]]
    _, key = api_key_create(name="crm", scopes=["write"])
    port = free_port()
    redis_proc = start_redis(port, tmp_path)
    env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    web = start_gunicorn(tmp_path, extra_env=env)
    worker = start_worker(tmp_path, beat=True, extra_env=env)
    try:
        time.sleep(3)  # the worker is up and beat has started
        stop_redis(redis_proc)  # the outage: broker and cache
        started = time.monotonic()
        for account in accounts[:n]:
            response = requests.post(f"{web.url}/api/v1/survey-responses/", timeout=30,
                                     json={"account": account.external_id, "kind": "nps", "score": 2,
                                           "responded_at": timezone.now().isoformat()},
                                     headers={"Authorization": f"Bearer {key}"})  # fmt: skip
            assert response.status_code == 201, response.text
        stored = time.monotonic() - started
        # The facts and their marks are in PostgreSQL; the rescorings they queued went nowhere.
        assert set(ScoreMark.objects.values_list("account_id", flat=True)) == set(answered)
        time.sleep(5)
        assert ScoreMark.objects.count() == n and not _rescored(answered, 2)
        redis_proc = start_redis(port, tmp_path)  # empty: the dirty set can only come from the database
        restarted = time.monotonic()
        wait_for(lambda: _rescored(answered, 2) == set(answered), timeout=90, message="every answer rescored")
        rescored = time.monotonic() - restarted
        wait_for(lambda: len(_tasks(answered)) == n, timeout=90, message="the rule's task of every account")
        tasks_at = time.monotonic() - restarted
        time.sleep(16)  # one more sweep and rule round: nothing doubles
    finally:
        stop_process(web.process)
        stop_worker(worker, tmp_path / "worker.log")
        stop_redis(redis_proc)
    web_log = web.log.read_text()
    tasks = _tasks([a.pk for a in accounts])
    row = {"scenario": f"Redis down while {n} answers were stored", "store_s": round(stored, 1),
           "rescored_after_restart_s": round(rescored, 1), "tasks_after_restart_s": round(tasks_at, 1),
           "tasks": sum(tasks.values())}  # fmt: skip
    print("FAULT", orjson.dumps(row).decode())
    assert "Broker unreachable" in web_log and "wait for the rescoring sweep" in web_log
    assert not ScoreMark.objects.exists()
    assert tasks == Counter(dict.fromkeys(answered, 1))


# --- Fairness under a flood -------------------------------------------------------------------------------------------


def test_a_flood_for_one_account_starves_no_one(tmp_path, broker):
    deadline, interval = 60, 4
    accounts = _book(11)
    flooded, others = accounts[0], accounts[1:]
    _, key = api_key_create(name="load", scopes=["ingest", "write"])
    env = {"REDIS_URL": broker}
    web = start_gunicorn(tmp_path, extra_env={**env, "API_KEY_THROTTLE_RATE": "100000/min"})
    worker = start_worker(tmp_path, beat=True, extra_env=env)
    pending: dict[int, float] = {}
    latencies: dict[int, float] = {}  # in the order of the answers
    backlog: list[int] = []  # messages waiting in the scoring queue at each answer
    flood_samples: list[tuple[dt.datetime, int]] = []  # the flooded account's (scored_at, events_30) seen
    queues = redis.Redis.from_url(broker)
    try:
        with run_load(web.url, key, clients=2, prefix="flood", group=flooded.external_id) as senders:
            time.sleep(5)  # the flood is under way
            queue = list(others)
            next_fact = time.monotonic()
            while queue or pending or (len(flood_samples) < 3 and time.monotonic() < next_fact + deadline):
                now = time.monotonic()
                if queue and now >= next_fact:
                    account = queue.pop(0)
                    response = requests.post(f"{web.url}/api/v1/survey-responses/", timeout=30,
                                             json={"account": account.external_id, "kind": "nps", "score": 3,
                                                   "responded_at": timezone.now().isoformat()},
                                             headers={"Authorization": f"Bearer {key}"})  # fmt: skip
                    assert response.status_code == 201, response.text
                    pending[account.pk] = time.monotonic()
                    latencies[account.pk] = -1
                    backlog.append(queues.llen("scoring"))
                    next_fact = now + interval
                for pk in _rescored(list(pending), 3):
                    latencies[pk] = time.monotonic() - pending.pop(pk)
                if any(time.monotonic() - at > deadline for at in pending.values()):
                    break
                sample = (
                    HealthSnapshot.objects.filter(account=flooded, day=timezone.localdate()).values_list(
                        "scored_at", flat=True
                    ).first(),
                    AccountMetrics.objects.filter(account=flooded, day=timezone.localdate()).values_list(
                        "events_30", flat=True
                    ).first(),
                )  # fmt: skip
                if not flood_samples or flood_samples[-1] != sample:
                    flood_samples.append(sample)
                time.sleep(0.25)
            flood_marked_at = ScoreMark.objects.filter(account=flooded).values_list("marked_at", flat=True).first()
    finally:
        stop_process(web.process)
        stop_worker(worker, tmp_path / "worker.log")
    starved = sorted(pending)
    rescorings = len({at for at, _ in flood_samples}) - 1  # after the full run's snapshot
    row = {"scenario": f"flood of tracking events for one account, another account's answer every {interval}s",
           "events_acked": len(acked_ids(senders)), "others": len(others),
           "latencies_s": [round(v, 1) for v in latencies.values()], "scoring_backlog": backlog,
           "starved": starved, "flooded_rescorings_seen": rescorings,
           "flooded_events_30": [events for _, events in flood_samples],
           "flooded_mark_age_s": round((timezone.now() - flood_marked_at).total_seconds(), 1)
           if flood_marked_at else None}  # fmt: skip
    print("FAULT", orjson.dumps(row, default=str).decode())
    assert not starved and all(v >= 0 for v in latencies.values())  # each within the deadline of its answer
    assert rescorings >= 2  # the flooded account is rescored again and again, with its new usage
    events = [e for _, e in flood_samples if e is not None]
    assert events and events[-1] > events[0]


# --- A fact stored during the full run -------------------------------------------------------------------------------


def _blocked_by(pid: int) -> list[str]:
    """The queries waiting for a lock `pid` holds (read on Django's connection: a transaction of the blocker's own
    would see a frozen pg_stat_activity)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [pid])
        return [row[0] for row in cursor.fetchall()]


def test_a_fact_stored_during_a_full_run_is_rescored(tmp_path, wait_for, own_connection, broker):
    accounts = _book(5)
    answered, blocker = accounts[0], accounts[1]
    SurveyResponse.objects.create(account=answered, kind="nps", score=9, responded_at=timezone.now())
    scores_mark([answered.pk])  # an answer shortly before the run, not rescored yet
    first_marked = ScoreMark.objects.get(account=answered).marked_at
    # The run is held after it read the facts and wrote the metrics, where it caches health on the accounts: one
    # account row is locked here (FOR NO KEY UPDATE: inserting facts that refer to it stays possible).
    _query(own_connection, "BEGIN")
    _query(own_connection, f"SELECT id FROM {Account._meta.db_table} WHERE id = %s FOR NO KEY UPDATE", (blocker.pk,))  # noqa: S608
    own_pid = _query(own_connection, "SELECT pg_backend_pid()")[0][0]
    worker = start_worker(tmp_path, extra_env={"REDIS_URL": broker})  # no message of an earlier run rescores first
    try:
        _ready(tmp_path / "worker.log", wait_for)
        _publish(recompute_health, broker)
        wait_for(lambda: _blocked_by(own_pid), timeout=60, message="the full run to wait for the account row")
        (waiting,) = _blocked_by(own_pid)
        if (
            not waiting.startswith(f'UPDATE "{Account._meta.db_table}"')
            or not ScoreMark.objects.filter(account=answered).exists()
        ):
            pytest.fail(f"expected the run caching health, the account still marked; the run waits in {waiting[:80]}")
        account_services.survey_response_create(account=answered, kind="nps", score=1)  # during the run
        kept = ScoreMark.objects.get(account=answered).marked_at
        _query(own_connection, "ROLLBACK")
        wait_for(lambda: "recompute_health" in (tmp_path / "worker.log").read_text()
                 and re.search(r"recompute_health\[[0-9a-f-]+\] succeeded", (tmp_path / "worker.log").read_text()),
                 timeout=60, message="the full run to finish")  # fmt: skip
    finally:
        with contextlib.suppress(psycopg2.Error):
            _query(own_connection, "ROLLBACK")
        stop_worker(worker, tmp_path / "worker.log")
    rescore_marked()  # what the queued rescoring and the sweep do
    mark_left = ScoreMark.objects.filter(account=answered).exists()
    nps = AccountMetrics.objects.get(account=answered, day=timezone.localdate()).nps
    print("FAULT", orjson.dumps({"scenario": "answer stored during the full run, account marked before it",
                                 "mark_kept_first_time": kept == first_marked, "mark_left_after_run": mark_left,
                                 "nps_scored": nps, "nps_answered": 1}).decode())  # fmt: skip
    assert nps == 1  # the answer stored during the run is scored


def test_a_rescoring_during_the_full_run_leaves_it_alone(tmp_path, wait_for, own_connection, broker):
    accounts = _book(5)
    answered, blocker = accounts[0], accounts[1]
    account_services.survey_response_create(account=answered, kind="nps", score=1)  # just before the run
    ScoreMark.objects.exclude(account=answered).delete()
    _query(own_connection, "BEGIN")
    _query(own_connection, f"SELECT id FROM {Account._meta.db_table} WHERE id = %s FOR NO KEY UPDATE", (blocker.pk,))  # noqa: S608
    own_pid = _query(own_connection, "SELECT pg_backend_pid()")[0][0]
    worker = start_worker(tmp_path, extra_env={"REDIS_URL": broker})
    rescoring: dict = {}

    def rescore() -> None:
        try:
            rescoring["result"] = rescore_marked()
        except Exception as exc:  # noqa: BLE001 — reported below
            rescoring["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=rescore)
    try:
        _ready(tmp_path / "worker.log", wait_for)
        _publish(recompute_health, broker)
        wait_for(lambda: _blocked_by(own_pid), timeout=60, message="the full run to wait for the account row")
        thread.start()  # a rescoring finds the run holding the scoring lock: it claims no mark and leaves
        thread.join(timeout=30)
        assert rescoring.get("result") == {"accounts": 0, "busy": True}, rescoring
        assert not _lock_waiters() and ScoreMark.objects.filter(account=answered).exists()
        _query(own_connection, "ROLLBACK")
        log = tmp_path / "worker.log"
        wait_for(lambda: re.search(r"recompute_health\[[0-9a-f-]+\] succeeded", log.read_text()), timeout=120,
                 message="the full run to finish")  # fmt: skip
    finally:
        with contextlib.suppress(psycopg2.Error):
            _query(own_connection, "ROLLBACK")
        stop_worker(worker, tmp_path / "worker.log")
    text = log.read_text()
    retries = len(re.findall(r"recompute_health\[[0-9a-f-]+\] retry", text))
    print("FAULT", orjson.dumps({"scenario": "a rescoring while the full run holds the scoring lock",
                                 "rescoring": str(rescoring), "deadlocks": text.count("deadlock detected"),
                                 "full_run_retries": retries}).decode())  # fmt: skip
    # The run scored the answer and cleared the mark of a fact it had read.
    assert AccountMetrics.objects.get(account=answered, day=timezone.localdate()).nps == 1
    assert not ScoreMark.objects.exists()
    assert retries == 0 and "deadlock detected" not in text  # the full run went through at its first attempt
