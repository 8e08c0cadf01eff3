"""Fault suite: the tracking API under a bounded load while its Redis (a server of the test's own, never the shared
one) is stopped and restarted. Every acknowledged event is stored exactly once; the outage costs no request."""

from __future__ import annotations

import datetime as dt
import subprocess
import threading
import time

import orjson
import pytest
import requests
from django.db.models import Sum

from accounts.models import UsageEvent
from churnapp.apikeys import api_key_create
from health.models import RollupMark, UsageDaily
from health.rollups import rollups_sweep
from tests.factories import AccountFactory
from tests.integration.conftest import free_port, start_gunicorn, stop_process
from tests.integration.load import Sender

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CLIENTS, OUTAGE_SECONDS = 3, 8


def _redis(port: int, tmp_path) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if (
            subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip()
            == "PONG"
        ):
            return proc
        time.sleep(0.1)
    proc.kill()
    pytest.fail("redis-server did not start")


def test_redis_restart_under_load_loses_and_duplicates_nothing(tmp_path):
    port = free_port()
    redis_proc = _redis(port, tmp_path)
    AccountFactory(external_id="acc-load")
    _, key = api_key_create(name="load", scopes=["ingest"])
    web = start_gunicorn(tmp_path, extra_env={"REDIS_URL": f"redis://127.0.0.1:{port}/0",
                                              "API_KEY_THROTTLE_RATE": "100000/min"})  # fmt: skip
    stop = threading.Event()
    senders = [Sender(n, web.url, key, stop, prefix="redis") for n in range(CLIENTS)]
    try:
        for sender in senders:
            sender.start()
        time.sleep(3)
        redis_proc.terminate()  # the outage
        redis_proc.wait(timeout=10)
        health_during = requests.get(f"{web.url}/healthz/", timeout=10)
        time.sleep(OUTAGE_SECONDS)
        redis_proc = _redis(port, tmp_path)
        restarted = time.monotonic()
        while requests.get(f"{web.url}/healthz/", timeout=10).json()["checks"]["broker"]["status"] != "ok":
            time.sleep(0.2)
        recovery = time.monotonic() - restarted
        time.sleep(3)
        stop.set()
        for sender in senders:
            sender.join(timeout=120)
    finally:
        stop.set()
        stop_process(web.process)
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
    acked = [m for sender in senders for m in sender.acked]
    stored = set(UsageEvent.objects.filter(message_id__startswith="redis-").values_list("message_id", flat=True))
    lost = len(set(acked) - stored)
    row = {"scenario": f"Redis stopped {OUTAGE_SECONDS}s under load", "sent": len(acked), "stored": len(stored),
           "lost": lost, "duplicates": UsageEvent.objects.filter(message_id__startswith="redis-").count() - len(stored),
           "client_errors": sum(s.client_errors for s in senders), "recovery_s": round(recovery, 1),
           "slowest_request_s": round(max(s.slowest for s in senders), 1)}  # fmt: skip
    print("FAULT", orjson.dumps(row).decode())
    assert health_during.status_code == 200 and health_during.json()["checks"]["broker"]["status"] == "down"
    assert len(acked) > 0 and len(acked) == len(set(acked))
    assert (row["lost"], row["duplicates"]) == (0, 0)
    assert len(stored) == len(acked)  # nothing stored that the client was not told about
    assert row["client_errors"] == 0  # ingestion kept accepting through the outage
    # The refresh tasks sent while Redis was down were lost; their stale marks were not: the sweep catches up.
    assert RollupMark.objects.exists()
    rollups_sweep(older_than=dt.timedelta(0))
    assert not RollupMark.objects.exists()
    assert UsageDaily.objects.aggregate(n=Sum("events"))["n"] == len(stored)
