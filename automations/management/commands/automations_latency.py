"""`manage.py automations_latency`: how long a fact takes to become a CSM's task, end to end, under load.

    manage.py automations_latency --accounts 10000 --rate 500 --facts 10

Runs the product as production does, on this database (PostgreSQL) and broker (REDIS_URL): gunicorn (sync workers,
DEBUG off), one Celery worker with embedded beat on every queue. A client thread keeps a steady tracking load
through `/v1/batch` over half of N synthetic accounts (`lat-…`, created once, scored by a full run); meanwhile
facts that must trigger a rule are sent, through the doors integrations use, to the other half:

| kind | fact | rule |
|---|---|---|
| ticket burst | 3 tickets, `POST /api/v1/tickets/bulk/` | ≥ 3 tickets in 7 days |
| detractor | an NPS answer of 2, `POST /api/v1/survey-responses/` | latest NPS ≤ 6 |
| failed payment | a signed Stripe `invoice.payment_failed`, `POST /webhooks/stripe/` | payment failed today |
| health crossing | 2 tickets, a CSAT of 1, an NPS of 0 (score falls ≈ 7 points) | health 3 points below the start |

Latency = the rule's task `created_at` − the moment the fact was sent. Prints p50, p95 and max per kind (targets:
p95 < 60 s, p50 < 15 s), the tracking load achieved and the machine's load. Other enabled rules are paused for the
run and restored; the synthetic rows are kept for the next run unless --cleanup.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from base64 import b64encode
from decimal import Decimal

import orjson
import stripe
import urllib3
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from accounts.models import Account, Subscription, SupportTicket, SurveyResponse, Task
from automations.models import Rule
from churnapp.apikeys import api_key_create, api_key_revoke
from health.models import HealthSnapshot
from health.services import health_recompute

PREFIX = "lat-"
KINDS = ("ticket burst", "detractor", "failed payment", "health crossing")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Command(BaseCommand):
    help = "Fact → task latency under a steady tracking load, with real web and worker processes (PostgreSQL+Redis)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=10_000)
        parser.add_argument("--rate", type=int, default=500, help="tracking events per second (steady load)")
        parser.add_argument("--facts", type=int, default=10, help="facts per kind")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between two facts")
        parser.add_argument("--web-workers", type=int, default=3)
        parser.add_argument("--timeout", type=int, default=240, help="seconds to wait for the last task")
        parser.add_argument("--cleanup", action="store_true", help="Delete the synthetic accounts afterwards.")

    def handle(self, *args, accounts, rate, facts, interval, web_workers, timeout, cleanup, **options):
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("Run it on PostgreSQL and Redis (DATABASE_URL, REDIS_URL): real workers share them.")
        ids = self._accounts(accounts)
        started = time.monotonic()
        health_recompute()
        self.stdout.write(f"{len(ids):,} synthetic accounts; full health run {time.monotonic() - started:.1f} s")
        targets = ids[len(ids) // 2 :]
        score = HealthSnapshot.objects.filter(day=timezone.localdate(), account_id__in=targets[:100]).values_list(
            "score", flat=True
        )
        if len(set(score)) != 1:
            raise CommandError("The synthetic accounts should share one health score; run with --cleanup first.")
        rules, paused = self._rules(health_below=next(iter(score)))
        ingest_id, ingest = api_key_create(name="latency ingest", scopes=["ingest"])
        write_id, write = api_key_create(name="latency write", scopes=["write"])
        stripe_secret = "whsec_" + secrets.token_hex(16)
        processes, tmp = self._start(web_workers=web_workers, stripe_secret=stripe_secret)
        stop = threading.Event()
        try:
            load = Load(self.url, ingest, [f"{PREFIX}{i}" for i in range(len(ids) // 2)], rate, stop)
            load.start()
            time.sleep(10)  # the load settles; rules have had a first cycle
            sent = self._inject(targets, facts, interval, write, stripe_secret)
            latencies = self._wait(sent, rules, timeout)
            stop.set()
            load.join(timeout=30)
        finally:
            stop.set()
            for proc in processes:
                proc.terminate()
            for proc in processes:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            api_key_revoke(key=ingest_id)
            api_key_revoke(key=write_id)
            Rule.objects.filter(pk__in=[r.pk for r in rules.values()]).delete()
            Rule.objects.filter(pk__in=paused).update(enabled=True)
            if cleanup:
                Account.objects.filter(external_id__startswith=PREFIX).delete()
        self._report(latencies, facts, load)

    # --- Set-up ------------------------------------------------------------------------------------------------------

    def _accounts(self, n: int) -> list[int]:
        have = Account.objects.filter(external_id__startswith=PREFIX).count()
        if have < n:
            self.stdout.write(f"Creating {n - have:,} synthetic accounts (once)…")
            created = Account.objects.bulk_create(
                [Account(external_id=f"{PREFIX}{i}", name=f"Latency {i}", billing_customer_id=f"cus_{PREFIX}{i}",
                         mrr=Decimal("100")) for i in range(have, n)],
                batch_size=5000,
            )  # fmt: skip
            Subscription.objects.bulk_create(
                [Subscription(account=a, product="growth", mrr=Decimal("100"), quantity=5,
                              start_date=dt.date.today() - dt.timedelta(days=400)) for a in created],
                batch_size=5000,
            )  # fmt: skip
        ids = list(Account.objects.filter(external_id__startswith=PREFIX).order_by("pk").values_list("pk", flat=True))
        Task.objects.filter(account_id__in=ids).delete()
        Account.objects.filter(pk__in=ids).update(payment_failed_at=None)

        SupportTicket.objects.filter(account_id__in=ids).delete()
        SurveyResponse.objects.filter(account_id__in=ids).delete()
        return ids[:n]

    def _rules(self, *, health_below: int) -> tuple[dict[str, Rule], list[int]]:
        paused = list(Rule.objects.filter(enabled=True).values_list("pk", flat=True))
        Rule.objects.filter(pk__in=paused).update(enabled=False)
        conditions = {
            "ticket burst": {"type": "tickets_in_days", "count": 3, "days": 7},
            "detractor": {"type": "nps_at_most", "value": 6},
            "failed payment": {"type": "payment_failed", "days": 1},
            # 3 points of margin: the percentile factor drifts a little as the loaded half gains usage.
            "health crossing": {"type": "health_below", "value": health_below - 3},
        }
        rules = {
            kind: Rule.objects.create(
                key=f"latency-{kind.replace(' ', '-')}",
                name=f"Latency: {kind}",
                enabled=True,
                cooldown_days=30,
                conditions={"all": [condition]},
                actions=[{"type": "create_task", "title": f"LAT {kind}: {{{{ account.name }}}}"}],
            )  # fmt: skip
            for kind, condition in conditions.items()
        }
        return rules, paused

    def _start(self, *, web_workers: int, stripe_secret: str) -> tuple[list[subprocess.Popen], str]:
        tmp = tempfile.mkdtemp(prefix="churnapp-latency-")
        port = _free_port()
        env = {**os.environ, "DEBUG": "false", "BEHIND_TLS_PROXY": "true", "ALLOWED_HOSTS": "127.0.0.1",
               "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50), "CHURNAPP_VAR_DIR": tmp,
               "API_KEY_THROTTLE_RATE": "off", "STRIPE_WEBHOOK_SECRET": stripe_secret,
               "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true"}  # fmt: skip
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "churnapp.wsgi", "-c", "gunicorn.conf.py", "-w", str(web_workers),
             "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "churnapp", "worker", "-B", "--loglevel=WARNING",
             "-Q", "default,ingest,scoring,email", "-n", f"latency-{os.getpid()}@localhost"],
            cwd=settings.BASE_DIR, env=env,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{port}"
        http = urllib3.PoolManager(retries=False)
        for _ in range(300):
            try:
                if http.request("GET", f"{self.url}/healthz/", headers={"X-Forwarded-Proto": "https"}).status:
                    break
            except urllib3.exceptions.HTTPError:
                time.sleep(0.2)
        return [web, worker], tmp

    # --- The facts --------------------------------------------------------------------------------------------------

    def _inject(self, targets: list[int], facts: int, interval: float, key: str, stripe_secret: str) -> list:
        http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=60))
        api = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "X-Forwarded-Proto": "https"}
        external = dict(Account.objects.filter(pk__in=targets).values_list("pk", "external_id"))
        sent, pool, run = [], iter(targets), int(time.time())  # Stripe event ids are de-duplicated: new per run
        for n in range(facts):
            for kind in KINDS:
                account = next(pool)
                ref, now = external[account], timezone.now().isoformat()
                if kind == "ticket burst":
                    body = [{"account": ref, "external_id": f"{ref}-t{i}-{n}", "subject": "Exports fail",
                             "opened_at": now} for i in range(3)]  # fmt: skip
                    request = ("/api/v1/tickets/bulk/", body, api)
                elif kind == "detractor":
                    request = (
                        "/api/v1/survey-responses/",
                        {"account": ref, "kind": "nps", "score": 2, "responded_at": now},
                        api,
                    )
                elif kind == "health crossing":  # two tickets (no burst) and a CSAT of 1 first, then an NPS of 0
                    tickets = [{"account": ref, "external_id": f"{ref}-h{i}-{n}", "subject": "Slow", "opened_at": now}
                               for i in range(2)]  # fmt: skip
                    csat = {"account": ref, "kind": "csat", "score": 1, "responded_at": now}
                    first = timezone.now()
                    for path, body in (("/api/v1/tickets/bulk/", tickets), ("/api/v1/survey-responses/", csat)):
                        response = http.request("POST", self.url + path, body=orjson.dumps(body), headers=api)
                        if response.status >= 300:
                            raise CommandError(f"{kind}: {path} answered {response.status}: {response.data[:300]!r}")
                    request = (
                        "/api/v1/survey-responses/",
                        {"account": ref, "kind": "nps", "score": 0, "responded_at": now},
                        api,
                    )
                else:
                    invoice = {"id": f"in_{ref}_{run}_{n}", "customer": f"cus_{ref}", "amount_due": 10000,
                               "currency": "usd", "attempt_count": 1}  # fmt: skip
                    event = {"id": f"evt_{ref}_{run}_{n}", "type": "invoice.payment_failed",
                             "created": int(time.time()), "data": {"object": invoice}}  # fmt: skip
                    payload = orjson.dumps(event).decode()
                    signature = stripe.WebhookSignature.generate_signature_header(payload, stripe_secret)
                    request = ("/webhooks/stripe/", event, {"Stripe-Signature": signature,
                                                            "Content-Type": "application/json",
                                                            "X-Forwarded-Proto": "https"})  # fmt: skip
                path, body, headers = request
                at = first if kind == "health crossing" else timezone.now()
                response = http.request("POST", self.url + path, body=orjson.dumps(body), headers=headers)
                if response.status >= 300:
                    raise CommandError(f"{kind}: {path} answered {response.status}: {response.data[:300]!r}")
                sent.append((kind, account, at))
                time.sleep(interval / len(KINDS))
        return sent

    def _wait(self, sent: list, rules: dict[str, Rule], timeout: int) -> dict[str, list[float | None]]:
        deadline = time.monotonic() + timeout
        wanted = {(kind, account) for kind, account, _ in sent}
        found: dict[tuple[str, int], dt.datetime] = {}
        while time.monotonic() < deadline and len(found) < len(wanted):
            for kind in rules:
                rows = Task.objects.filter(title__startswith=f"LAT {kind}:", account_id__in=[a for _, a, _ in sent])
                for account_id, created in rows.values_list("account_id", "created_at"):
                    if (kind, account_id) in wanted:
                        found.setdefault((kind, account_id), created)
            time.sleep(1)
        return {
            kind: [(found[(k, a)] - at).total_seconds() if (k, a) in found else None for k, a, at in sent if k == kind]
            for kind in KINDS
        }

    def _report(self, latencies: dict, facts: int, load: Load) -> None:
        load1, load5, _ = os.getloadavg()
        self.stdout.write(
            f"Tracking load: {load.sent:,} events in {load.seconds:.0f} s = {load.sent / max(load.seconds, 1):,.0f} "
            f"events/s ({load.errors} failed requests) · {os.cpu_count()} CPUs, load average {load1:.1f} / {load5:.1f}"
        )
        self.stdout.write(f"{'fact':<16} {'n':>3} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'missed':>6}")
        every = []
        for kind, values in latencies.items():
            seen = [v for v in values if v is not None]
            every += seen
            if seen:
                p50, p95, missed = statistics.median(seen), _pct(seen, 0.95), len(values) - len(seen)
                self.stdout.write(f"{kind:<16} {len(values):>3} {p50:>7.1f} {p95:>7.1f} {max(seen):>7.1f} {missed:>6}")
            else:
                self.stdout.write(f"{kind:<16} {len(values):>3} {'—':>7} {'—':>7} {'—':>7} {len(values):>6}")
        if every:
            p50, p95 = statistics.median(every), _pct(every, 0.95)
            verdict = "meets" if p95 < 60 and p50 < 15 and all(None not in v for v in latencies.values()) else "misses"
            self.stdout.write(f"{'all':<16} {len(every):>3} {p50:>7.1f} {p95:>7.1f} {max(every):>7.1f}  "
                              f"({verdict} p95 < 60 s, p50 < 15 s)")  # fmt: skip


class Load(threading.Thread):
    """A steady tracking load: a batch every 200 ms, spread over the given accounts."""

    def __init__(self, url: str, key: str, groups: list[str], rate: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.url, self.groups, self.rate, self.stop = url, groups, rate, stop
        self.headers = {"Authorization": "Basic " + b64encode(f"{key}:".encode()).decode(),
                        "Content-Type": "application/json", "X-Forwarded-Proto": "https"}  # fmt: skip
        self.sent = self.errors = 0
        self.seconds = 0.0

    def run(self) -> None:
        http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=60))
        per_batch, n, started = max(1, self.rate // 5), 0, time.monotonic()
        kinds = ("campaign_sent", "report_viewed", "login", "template_edited")
        while not self.stop.is_set():
            tick = time.monotonic()
            batch = [
                {"type": "track", "userId": f"u{(n + i) % 7}", "event": kinds[(n + i) % 4],
                 "messageId": f"{PREFIX}{started}-{n + i}",
                 "context": {"groupId": self.groups[(n + i) % len(self.groups)]}}
                for i in range(per_batch)
            ]  # fmt: skip
            try:
                response = http.request("POST", f"{self.url}/v1/batch", body=orjson.dumps({"batch": batch}),
                                        headers=self.headers)  # fmt: skip
                if response.status == 200:
                    self.sent += per_batch
                else:
                    self.errors += 1
            except urllib3.exceptions.HTTPError:
                self.errors += 1
            n += per_batch
            time.sleep(max(0.0, 0.2 - (time.monotonic() - tick)))
        self.seconds = time.monotonic() - started
