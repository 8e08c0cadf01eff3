"""Fault suite: the tracking API under a bounded load while a gunicorn worker and the Celery worker are SIGKILLed.
Every acknowledged event is stored exactly once, and the usage rollups come level with the stored events: the
refresh tasks the killed worker held are redelivered, and none is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter

import orjson
import pytest
from django.db.models import Sum

from accounts.models import UsageEvent
from churnapp.apikeys import api_key_create
from health.models import RollupMark, UsageDaily
from tests.factories import AccountFactory
from tests.integration.conftest import start_gunicorn, start_worker, stop_process, stop_worker
from tests.integration.load import acked_ids, run_load

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CLIENTS = 3


def _web_workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def test_killed_web_and_celery_workers_lose_and_duplicate_nothing(tmp_path, wait_for):
    AccountFactory(external_id="acc-load")
    _, key = api_key_create(name="load", scopes=["ingest"])
    web = start_gunicorn(tmp_path, workers=3, extra_env={"API_KEY_THROTTLE_RATE": "100000/min"})
    worker = start_worker(tmp_path, name="-a")
    try:
        with run_load(web.url, key, clients=CLIENTS, prefix="kill") as senders:
            time.sleep(4)
            os.kill(_web_workers(web.process.pid)[0], signal.SIGKILL)  # mid-request, most likely: gunicorn replaces it
            time.sleep(2)
            os.killpg(worker.pid, signal.SIGKILL)  # with the refresh tasks it had prefetched
            worker.wait(timeout=10)
            killed_at = time.monotonic()
            time.sleep(3)
            worker = start_worker(tmp_path, name="-b")
            time.sleep(3)
        stored = UsageEvent.objects.filter(message_id__startswith="kill-").count()

        def level() -> bool:
            counted = UsageDaily.objects.aggregate(n=Sum("events"))["n"] or 0
            return counted == stored and not RollupMark.objects.exists()

        wait_for(level, timeout=120, message="the rollups to count every stored event")
        level_after = time.monotonic() - killed_at
    finally:
        stop_process(web.process)
        stop_worker(worker, tmp_path / "worker-b.log")
    acked = acked_ids(senders)
    ids = list(UsageEvent.objects.filter(message_id__startswith="kill-").values_list("message_id", flat=True))
    row = {"scenario": "gunicorn worker and Celery worker SIGKILLed under load", "sent": len(acked),
           "stored": len(set(ids)), "lost": len(set(acked) - set(ids)), "duplicates": len(ids) - len(set(ids)),
           "client_errors": sum(s.client_errors for s in senders),
           "answers": dict(sum((s.statuses for s in senders), Counter())),
           "rollups_level_s": round(level_after, 1),
           "slowest_request_s": round(max(s.slowest for s in senders), 1)}  # fmt: skip
    print("FAULT", orjson.dumps(row).decode())
    assert len(acked) > 0 and len(acked) == len(set(acked))
    assert (row["lost"], row["duplicates"]) == (0, 0)
    assert set(ids) == set(acked)
    assert level_after <= 90  # redelivery within a minute, then the refresh
