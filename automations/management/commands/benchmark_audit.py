"""`manage.py benchmark_audit`: what the audit trail costs the bulk write paths, measured in the same run.

Each path runs on the same data with the trail recording and with it switched off (`audit.capture.recording`),
alternately, inside a transaction that is rolled back, so every repeat starts from the same state; the median of
the repeats is reported with the overhead. The bulk paths, each as a client or a worker meets it:

- import, create: a CSV of N new accounts through the import runner (parsing, validation, upsert, progress);
- import, update: a CSV renaming the same N accounts;
- API bulk contacts: N contacts POSTed to /api/v1/contacts/bulk/ in requests of 1,000 with an API key;
- rule firing: a rule that sets the status and creates a task, evaluated on the N accounts and its actions run
  (the rule engine's two phases, as a worker runs them).

Then the database write alone, without parsing or validation (`rows_upsert` creating N accounts), the strictest
view of the trail's cost, and the raw INSERT of N rows into a plain table, the machine's limit.

Target (issue #21): the trail adds at most 15 % to each bulk path.
"""

from __future__ import annotations

import io
import os
import platform
import statistics
import time
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test import Client

from accounts.imports.runner import import_run
from accounts.imports.services.upsert import rows_upsert
from accounts.models import Account, ImportJob, ImportKind, ImportStatus
from accounts.serializers import MAX_BULK_ROWS
from audit.capture import recording
from audit.models import AuditEntry
from automations import rules
from churnapp.apikeys import api_key_create

PREFIX = "bench-audit-"
TARGET = 0.15


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Benchmark the audit trail's overhead on the bulk write paths (trail on vs off, same run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=20_000, help="Objects written by each path.")
        parser.add_argument("--repeats", type=int, default=3, help="Runs of each path with and without the trail.")

    def handle(self, *args, rows: int, repeats: int, **options) -> None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        self.stdout.write(
            f"audit trail overhead · {connection.vendor} · {os.cpu_count()} cores · load {load:.2f} · "
            f"{platform.python_version()} · {rows:,} rows × {repeats} repeats"
        )
        paths: list[tuple[str, Callable[[], None], Callable[[], None] | None]] = [
            ("import, create", self._import(rows, "Created"), None),
            ("import, update", self._import(rows, "Renamed"), self._seed(rows)),
            ("API bulk contacts", self._api_contacts(rows), self._seed(rows, api_key=True)),
            ("rule firing", self._rule_firing(), self._seed(rows, rule=True)),
            ("database write alone", self._create(rows), None),
        ]
        self.stdout.write(f"{'path':<22}{'with trail':>12}{'without':>12}{'overhead':>10}{'entries':>10}")
        worst = 0.0
        for index, (name, run, setup) in enumerate(paths):
            self._timed(run, setup, False)  # warm-up (imports, URL resolver, query plans), not counted
            on, off, entries = [], [], 0
            for _ in range(repeats):
                for enabled in (True, False) if len(on) % 2 == 0 else (False, True):
                    seconds, made = self._timed(run, setup, enabled)
                    (on if enabled else off).append(seconds)
                    entries = made if enabled else entries
            with_trail, without = statistics.median(on), statistics.median(off)
            overhead = with_trail / without - 1
            worst = max(worst, overhead) if index < len(paths) - 1 else worst
            self.stdout.write(f"{name:<22}{with_trail:>11.3f}s{without:>11.3f}s{overhead:>9.1%}{entries:>10,}")
        baseline = statistics.median(self._baseline(rows) for _ in range(repeats))
        self.stdout.write(
            f"{'raw INSERT (baseline)':<22}{baseline:>11.3f}s  ({rows / baseline:,.0f} rows/s into a plain table)"
        )
        verdict = "meets" if worst <= TARGET else "misses"
        self.stdout.write(f"worst overhead of a bulk path {worst:.1%}: {verdict} the target of at most {TARGET:.0%}")

    def _timed(self, run, setup, enabled: bool) -> tuple[float, int]:
        """Time `run` with the trail on or off, inside a transaction rolled back afterwards."""
        seconds, made = 0.0, 0
        try:
            with transaction.atomic():
                if setup is not None:
                    with recording(False):
                        setup()
                before = AuditEntry.objects.count()
                with recording(enabled):
                    start = time.perf_counter()
                    run()
                    seconds = time.perf_counter() - start
                made = AuditEntry.objects.count() - before
                raise _Rollback
        except _Rollback:
            pass
        return seconds, made

    def _seed(self, rows: int, *, api_key: bool = False, rule: bool = False) -> Callable[[], None]:
        def seed() -> None:
            rows_upsert(kind="accounts", rows=_account_rows(rows, "Seeded"), replay=False)
            if api_key:
                self.secret = api_key_create(name="benchmark", scopes=["write"])[1]
            if rule:
                self.rule = rules.rule_save(
                    key=f"{PREFIX}rule", name="Benchmark: onboarding accounts", enabled=False,
                    conditions_tree={"type": "status", "in": ["onboarding"]},
                    actions_list=[{"type": "set_status", "status": "at_risk"},
                                  {"type": "create_task", "title": "Call {{ account.name }}"}],
                )  # fmt: skip

        return seed

    def _create(self, rows: int) -> Callable[[], None]:
        return lambda: rows_upsert(kind="accounts", rows=_account_rows(rows, "Created"), replay=False)

    def _import(self, rows: int, name: str) -> Callable[[], None]:
        text = "account_id,name\n" + "".join(f"{PREFIX}{i},{name} {i}\n" for i in range(rows))

        def run() -> None:
            job = ImportJob.objects.create(kind=ImportKind.ACCOUNTS, original_name="bench.csv")
            job = import_run(job=job, source=io.BytesIO(text.encode()))
            if job.status != ImportStatus.DONE:
                raise CommandError(f"The benchmark import failed: {job.error}")

        return run

    def _api_contacts(self, rows: int) -> Callable[[], None]:
        def run() -> None:
            client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {self.secret}")
            for lo in range(0, rows, MAX_BULK_ROWS):
                batch = [
                    {"account": f"{PREFIX}{i}", "email": f"person{i}@example.com", "name": f"Person {i}"}
                    for i in range(lo, min(rows, lo + MAX_BULK_ROWS))
                ]
                response = client.post("/api/v1/contacts/bulk/", batch, content_type="application/json")
                if response.status_code != 200:
                    raise CommandError(
                        f"The benchmark's bulk request failed: {response.status_code} {response.content[:300]!r}"
                    )

        return run

    def _rule_firing(self) -> Callable[[], None]:
        def run() -> None:
            ids = list(Account.objects.filter(external_id__startswith=PREFIX).values_list("pk", flat=True))
            rules.rule_evaluate(rule=self.rule, account_ids=ids)
            rules.executions_run_pending(rule_ids=[self.rule.pk])

        return run

    def _baseline(self, rows: int) -> float:
        """INSERT the same number of rows, of an account's width, into a plain temporary table."""
        values = [(f"{PREFIX}{i}", f"Created {i}", "smb", "active") for i in range(rows)]
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE audit_bench_plain (external_id varchar(128), name varchar(255), "
                "segment varchar(32), status varchar(32))"
            )
            try:
                start = time.perf_counter()
                with transaction.atomic():
                    for lo in range(0, rows, 500):
                        part = values[lo : lo + 500]
                        cursor.execute(
                            "INSERT INTO audit_bench_plain VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(part)),
                            [v for row in part for v in row],
                        )
                return time.perf_counter() - start
            finally:
                cursor.execute("DROP TABLE audit_bench_plain")


def _account_rows(rows: int, name: str) -> list[tuple[int, dict]]:
    return [(i, {"external_id": f"{PREFIX}{i}", "name": f"{name} {i}"}) for i in range(rows)]
