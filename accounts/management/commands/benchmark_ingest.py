"""Ingestion benchmark: events through the public tracking API (/v1/batch) vs the machine's limit, same run.

    manage.py benchmark_ingest --events 100000 --batch-size 1000 --clients 4 --workers 3

Starts gunicorn as production runs it (sync workers, `--workers 3` as in the Dockerfile and docker-compose.yml,
DEBUG off, requests arriving as from the TLS proxy) on a free local port against the same database (API-key
throttling off for the run), posts
pre-built Segment batches from concurrent client threads, then COPYs the same rows into a plain table (the limit:
a bigserial key and no other index, `churnapp.benchmarking`) and, as a second baseline, into our own events table
with its indexes (own message ids). Prints events/s for each and the API's ratio to both (DESIGN.md: the tracking
API ≥ 40,000 events/s on 2 cores; the limit is the plain COPY).
Benchmark rows are deleted afterwards unless --keep.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from base64 import b64encode

import orjson
import urllib3
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.models import Account, UsageEvent
from churnapp.apikeys import api_key_create, api_key_revoke
from churnapp.benchmarking import plain_copy

PREFIX = "bench-"
API_TARGET = 40_000  # events/s on 2 cores (DESIGN.md)
PLAIN_COLUMNS = [("account_id", "bigint"), ("user_id", "text"), ("event_type", "text"), ("occurred_at", "timestamptz"),
                 ("properties", "jsonb"), ("message_id", "text"), ("received_at", "timestamptz")]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Command(BaseCommand):
    help = "Benchmark event ingestion: tracking API (/v1/batch) vs a raw COPY of the same rows into a plain table."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=100_000)
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--clients", type=int, default=4)
        parser.add_argument(
            "--workers", type=int, default=3, help="gunicorn sync workers (default 3, as production runs)"
        )
        parser.add_argument("--accounts", type=int, default=1000)
        parser.add_argument("--keep", action="store_true", help="Keep the benchmark rows.")

    def handle(self, *args, events, batch_size, clients, workers, accounts, keep, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark compares against PostgreSQL COPY: set DATABASE_URL to PostgreSQL.")
        run = f"{PREFIX}{int(time.time())}"
        account_ids = self._accounts(accounts)
        key, secret = api_key_create(name=f"{run} benchmark", scopes=["ingest"])
        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        rows = [
            (f"{PREFIX}acc-{i % accounts}", f"u{i % 5000}", "campaign_sent", start + dt.timedelta(seconds=i),
             {"n": i, "channel": "email"}, f"{run}-{i}")
            for i in range(events)
        ]  # fmt: skip
        self.stdout.write(f"{events:,} events, {accounts:,} accounts, batch {batch_size}, {clients} clients, "
                          f"{workers} gunicorn workers, {os.cpu_count()} CPUs")  # fmt: skip
        try:
            api_seconds = self._api(rows, secret, batch_size=batch_size, clients=clients, workers=workers)
            stored = UsageEvent.objects.filter(message_id__startswith=f"{run}-").count()
            if stored != events:
                raise CommandError(f"API stored {stored:,} of {events:,} events.")
            limit = plain_copy(columns=PLAIN_COLUMNS, source=self._copy_text(rows, account_ids, run))
            copy_seconds = self._copy(rows, account_ids, run)
        finally:
            api_key_revoke(key=key)
            if not keep:
                deleted, _ = UsageEvent.objects.filter(message_id__startswith=f"{run}").delete()
                self.stdout.write(f"(deleted {deleted:,} benchmark rows)")
        api_rate, copy_rate = events / api_seconds, events / copy_seconds
        self.stdout.write(f"COPY, plain table (the limit) : {limit.seconds:7.2f} s  {limit.rate:>10,.0f} events/s")
        self.stdout.write(f"COPY, our events table        : {copy_seconds:7.2f} s  {copy_rate:>10,.0f} events/s")
        self.stdout.write(f"API /v1/batch                 : {api_seconds:7.2f} s  {api_rate:>10,.0f} events/s")
        verdict = "meets" if api_rate >= API_TARGET else "below"
        self.stdout.write(
            f"API vs the limit: {api_rate / limit.rate:.3f}; vs COPY into our table: {api_rate / copy_rate:.2f}; "
            f"{verdict} the {API_TARGET:,} events/s target"
        )

    def _accounts(self, n: int) -> dict[str, int]:
        Account.objects.bulk_create(
            [Account(external_id=f"{PREFIX}acc-{i}", name=f"Benchmark {i}") for i in range(n)], ignore_conflicts=True
        )
        return dict(Account.objects.filter(external_id__startswith=f"{PREFIX}acc-").values_list("external_id", "pk"))

    def _api(self, rows, secret: str, *, batch_size: int, clients: int, workers: int) -> float:
        now = dt.datetime.now(dt.UTC).isoformat()
        bodies = [
            orjson.dumps({"batch": [
                {"type": "track", "userId": user, "event": kind, "timestamp": at.isoformat(), "properties": props,
                 "messageId": mid, "context": {"groupId": account}}
                for account, user, kind, at, props, mid in rows[i : i + batch_size]
            ], "sentAt": now})
            for i in range(0, len(rows), batch_size)
        ]  # fmt: skip
        port = _free_port()
        # Production settings: DEBUG off (a throwaway secret if none is set), requests as forwarded by the proxy.
        env = {
            **os.environ,
            "API_KEY_THROTTLE_RATE": "off",
            "DEBUG": "false",
            "BEHIND_TLS_PROXY": "true",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "churnapp.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
             "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=env,
        )  # fmt: skip
        proxied = {"X-Forwarded-Proto": "https"}
        http = urllib3.PoolManager(maxsize=max(clients, workers), retries=False, timeout=urllib3.Timeout(total=120))
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if http.request("GET", f"{base}/healthz/", headers=proxied).status == 200:
                        break
                except urllib3.exceptions.HTTPError:
                    pass
                time.sleep(0.1)
            headers = {**proxied, "Content-Type": "application/json",
                       "Authorization": "Basic " + b64encode(f"{secret}:".encode()).decode()}  # fmt: skip
            # Production workers are warm: let every worker import the app and open its connection before the
            # clock starts (a cold worker spends seconds importing on its first request). Concurrent requests
            # land on different sync workers; the warm-up events are deleted with the benchmark rows.
            warm_run = rows[0][5].rsplit("-", 1)[0] + "w"
            for round_ in range(2):
                warm = [
                    orjson.dumps({"batch": [{"type": "track", "userId": "warm", "event": "warm_up",
                                             "messageId": f"{warm_run}{round_}-{n}",
                                             "context": {"groupId": rows[0][0]}}]})
                    for n in range(workers)
                ]  # fmt: skip
                warmers = [
                    threading.Thread(
                        target=http.request, args=("POST", f"{base}/v1/batch"), kwargs={"body": b, "headers": headers}
                    )
                    for b in warm
                ]
                for t in warmers:
                    t.start()
                for t in warmers:
                    t.join()
            queue = list(reversed(bodies))
            lock = threading.Lock()
            failures: list[str] = []

            def client() -> None:
                while True:
                    with lock:
                        if not queue:
                            return
                        body = queue.pop()
                    response = http.request("POST", f"{base}/v1/batch", body=body, headers=headers)
                    if response.status != 200:
                        failures.append(f"{response.status} {response.data[:200]!r}")

            started = time.perf_counter()
            threads = [threading.Thread(target=client) for _ in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - started
            if failures:
                raise CommandError(f"{len(failures)} batches failed, first: {failures[0]}")
            return seconds
        finally:
            server.terminate()
            server.wait(timeout=30)

    def _copy_text(self, rows, account_ids: dict[str, int], run: str) -> io.StringIO:
        """The rows in COPY's text format, in PLAIN_COLUMNS' order (own message ids: they do not collide)."""
        buffer = io.StringIO()
        received = dt.datetime.now(dt.UTC).isoformat()
        for account, user, kind, at, props, mid in rows:
            buffer.write(f"{account_ids[account]}\t{user}\t{kind}\t{at.isoformat()}\t{orjson.dumps(props).decode()}\t"
                         f"{mid}-copy\t{received}\n")  # fmt: skip
        buffer.seek(0)
        return buffer

    def _copy(self, rows, account_ids: dict[str, int], run: str) -> float:
        buffer = self._copy_text(rows, account_ids, run)
        table = UsageEvent._meta.db_table
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.cursor.copy_expert(
                f"COPY {table} (account_id, user_id, event_type, occurred_at, properties, message_id, received_at) "
                "FROM STDIN",
                buffer,
            )
            connection.commit() if not connection.get_autocommit() else None
            return time.perf_counter() - started
