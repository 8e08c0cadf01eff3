"""Fault suite: the tracking API under a bounded load while its PostgreSQL (a cluster of the test's own, a copy of
the test database, never the shared server) is stopped and started again. Every acknowledged event is stored
exactly once; during the outage clients get a JSON 503 with Retry-After, and the first requests after the restart
succeed (pooled connections are checked before use)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg2
import pytest
import requests
from django.db import connection

from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory
from tests.integration.conftest import free_port, start_gunicorn, stop_process
from tests.integration.load import acked_ids, run_load

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CLIENTS, OUTAGE_SECONDS = 3, 6


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found[-1]:
        pytest.fail(f"{name} (PostgreSQL's server binaries) not found")
    return found[-1]


@dataclass
class Cluster:
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/churnapp_fault"

    def run(self, *args: str) -> None:
        # The server refuses to run as root: its commands run as the postgres user there.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.data / "log")
        self.run(_bin("pg_ctl"), "-D", str(self.data / "db"), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run(_bin("pg_ctl"), "-D", str(self.data / "db"), "-m", mode, "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    data = Path(tempfile.mkdtemp(prefix="churnapp-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    own = Cluster(data=data, port=free_port())
    own.run(_bin("initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres", "--no-sync")
    own.start()
    try:
        yield own
    finally:
        try:
            own.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already down
        shutil.rmtree(data, ignore_errors=True)


def _copy_test_database(to: Cluster) -> None:
    """The test database (migrated, with this test's account and key committed) into the cluster."""
    source = connection.settings_dict
    host, port = source["HOST"] or "127.0.0.1", str(source["PORT"] or 5432)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(to.port), "-U", "postgres", "churnapp_fault"], check=True)
    dump = subprocess.run(["pg_dump", "-h", host, "-p", port, "-U", source["USER"] or "postgres", "--no-owner",
                           source["NAME"]], check=True, capture_output=True, timeout=120).stdout  # fmt: skip
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(to.port), "-U", "postgres", "-d", "churnapp_fault",
                    "-v", "ON_ERROR_STOP=1"], input=dump, check=True, capture_output=True, timeout=120)  # fmt: skip


def _database_status(url: str) -> str:
    try:
        return requests.get(f"{url}/healthz/", timeout=10).json()["checks"]["database"]["status"]
    except (requests.RequestException, ValueError, KeyError):
        return "unreachable"


def test_postgres_restart_under_load_loses_and_duplicates_nothing(tmp_path, cluster):
    AccountFactory(external_id="acc-load")
    _, key = api_key_create(name="load", scopes=["ingest"])
    _copy_test_database(cluster)
    web = start_gunicorn(tmp_path, workers=3, extra_env={"DATABASE_URL": cluster.url,
                                                         "API_KEY_THROTTLE_RATE": "100000/min"})  # fmt: skip
    try:
        with run_load(web.url, key, clients=CLIENTS, prefix="pg") as senders:
            time.sleep(3)
            cluster.stop("fast")  # the outage: connections of every gunicorn worker die with it
            time.sleep(1)
            during = requests.get(f"{web.url}/healthz/", timeout=10)
            time.sleep(OUTAGE_SECONDS)
            cluster.start()
            restarted = time.monotonic()
            while _database_status(web.url) != "ok":
                time.sleep(0.2)
            recovered = time.monotonic()
            time.sleep(4)
    finally:
        stop_process(web.process)
    acked = acked_ids(senders)
    with psycopg2.connect(host="127.0.0.1", port=cluster.port, user="postgres", dbname="churnapp_fault") as db:
        with db.cursor() as cursor:
            cursor.execute("SELECT message_id FROM accounts_usageevent WHERE message_id LIKE 'pg-%%'")
            rows = [r[0] for r in cursor.fetchall()]
    stored = set(rows)
    statuses = sum((s.statuses for s in senders), Counter())
    last_error = max(s.last_error_at for s in senders)
    row = {"scenario": f"PostgreSQL stopped {OUTAGE_SECONDS}s under load", "sent": len(acked), "stored": len(stored),
           "lost": len(set(acked) - stored), "duplicates": len(rows) - len(stored),
           "client_errors": sum(s.client_errors for s in senders), "answers": dict(statuses),
           "recovery_s": round(recovered - restarted, 1),
           "errors_after_recovery_s": round(max(0.0, last_error - recovered), 1),
           "slowest_request_s": round(max(s.slowest for s in senders), 1)}  # fmt: skip
    print("FAULT", orjson.dumps(row).decode())
    assert during.status_code == 503 and during.json()["checks"]["database"]["status"] == "down"
    assert len(acked) > 0 and len(acked) == len(set(acked))
    assert (row["lost"], row["duplicates"]) == (0, 0)
    assert stored == set(acked)  # nothing stored that the client was not told about
    assert row["client_errors"] > 0 and set(statuses) == {"503"}  # a JSON 503 with Retry-After, never a 500
    assert not [text for s in senders for text in s.unreadable]
    assert last_error <= recovered + 1  # the first requests after the restart succeed: no stale pooled connection
