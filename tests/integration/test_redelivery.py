"""A killed worker's task is redelivered within a minute; a live worker's long task never runs twice."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.integration.conftest import start_worker, stop_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
INCLUDE = ("tests.integration.fault_tasks",)


def _lines(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_task_of_a_sigkilled_worker_is_redelivered_within_a_minute(tmp_path, wait_for):
    from tests.integration.fault_tasks import slow_mark

    marks = tmp_path / "marks.txt"
    first = start_worker(tmp_path, name="-a", include=INCLUDE)
    second = None
    try:
        slow_mark.delay(str(marks), 15)
        wait_for(lambda: any(line.startswith("start") for line in _lines(marks)), timeout=60, message="the start")
        time.sleep(2)  # mid-task
        os.killpg(first.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        first.wait(timeout=10)
        second = start_worker(tmp_path, name="-b", include=INCLUDE)
        wait_for(lambda: any(line.startswith("done") for line in _lines(marks)), timeout=120,
                 message="the redelivered task to finish")  # fmt: skip
        finished = time.monotonic() - killed_at
    finally:
        stop_worker(first)
        if second is not None:
            stop_worker(second, tmp_path / "worker-b.log")
    starts = [line for line in _lines(marks) if line.startswith("start")]
    restarted_after = float(starts[1].split()[2]) - float(starts[0].split()[2]) - 2
    print(f"redelivered {restarted_after:.0f}s after the kill, finished {finished:.0f}s after it")
    assert len(starts) == 2
    assert restarted_after <= 60
    assert finished <= 90


def test_a_task_longer_than_the_visibility_timeout_runs_once(tmp_path, wait_for):
    from tests.integration.fault_tasks import slow_mark

    marks = tmp_path / "marks.txt"
    # Two live workers and a 10 s visibility timeout: without the refresher the 25 s task would be redelivered
    # to the idle worker while it still runs.
    env = {"CELERY_VISIBILITY_TIMEOUT": "10"}
    workers = [start_worker(tmp_path, name=f"-{n}", include=INCLUDE, extra_env=env) for n in ("a", "b")]
    try:
        time.sleep(5)
        slow_mark.delay(str(marks), 25)
        wait_for(lambda: any(line.startswith("done") for line in _lines(marks)), timeout=90, message="the task")
        time.sleep(12)  # a late duplicate would start within a sweep
    finally:
        for proc in workers:
            stop_worker(proc)
    assert [line.split()[0] for line in _lines(marks)] == ["start", "done"]
