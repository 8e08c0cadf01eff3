"""Fault suite: the tracking API under a bounded load while its Redis (a server of the test's own, never the shared
one) is stopped and restarted. Every acknowledged event is stored exactly once; the outage costs no request."""

from __future__ import annotations

import datetime as dt
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
from tests.integration.conftest import free_port, start_gunicorn, start_redis, stop_process, stop_redis
from tests.integration.load import acked_ids, run_load

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CLIENTS, OUTAGE_SECONDS = 3, 8


def test_redis_restart_under_load_loses_and_duplicates_nothing(tmp_path):
    port = free_port()
    redis_proc = start_redis(port, tmp_path)
    AccountFactory(external_id="acc-load")
    _, key = api_key_create(name="load", scopes=["ingest"])
    web = start_gunicorn(tmp_path, extra_env={"REDIS_URL": f"redis://127.0.0.1:{port}/0",
                                              "API_KEY_THROTTLE_RATE": "100000/min"})  # fmt: skip
    try:
        with run_load(web.url, key, clients=CLIENTS, prefix="redis") as senders:
            time.sleep(3)
            stop_redis(redis_proc)  # the outage
            health_during = requests.get(f"{web.url}/healthz/", timeout=10)
            time.sleep(OUTAGE_SECONDS)
            redis_proc = start_redis(port, tmp_path)
            restarted = time.monotonic()
            while requests.get(f"{web.url}/healthz/", timeout=10).json()["checks"]["broker"]["status"] != "ok":
                time.sleep(0.2)
            recovery = time.monotonic() - restarted
            time.sleep(3)
    finally:
        stop_process(web.process)
        stop_redis(redis_proc)
    acked = acked_ids(senders)
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
