"""Import benchmark: an events file through `import_data`'s path vs a raw COPY of the same file, same run.

    manage.py benchmark_import --events 1000000 --accounts 1000
    manage.py benchmark_import --file events.csv      # a file of your own (its accounts must exist)

Without --file, writes an events CSV in the import format (account_id, event_time, event_type, user_id,
message_id, properties) for benchmark accounts it creates. It first COPYs the file as it is into a plain table
(the machine's limit: a bigserial key, no other index, `churnapp.benchmarking`), then imports it as `import_data`
does (`accounts.imports.runner.import_run`: parsing, account resolution, de-duplication, error rows, progress).
Prints rows/s for both and the ratio (DESIGN.md target: import ≥ 0.2 × the raw COPY). The imported rows and the
benchmark accounts are deleted afterwards unless --keep; a file of your own is never deleted.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import time
from pathlib import Path

import orjson
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.imports.runner import import_run
from accounts.models import Account, ImportJob, ImportKind, ImportStatus, UsageEvent
from churnapp.benchmarking import plain_copy
from churnapp.csvsafe import SafeCsvWriter

PREFIX = "bench-imp-"
TARGET = 0.2
# The plain table's type for each column of the events import format.
COLUMN_TYPES = {"account_id": "text", "event_time": "timestamptz", "event_type": "text", "user_id": "text",
                "message_id": "text", "properties": "jsonb"}  # fmt: skip


class Command(BaseCommand):
    help = "Benchmark the events import (import_data) against a raw COPY of the same file into a plain table."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=1_000_000, help="Rows of the generated file.")
        parser.add_argument("--accounts", type=int, default=1000, help="Benchmark accounts of the generated file.")
        parser.add_argument("--file", help="An events CSV of your own instead (header in the import format).")
        parser.add_argument("--keep", action="store_true", help="Keep the imported rows and benchmark accounts.")

    def handle(self, *args, events: int, accounts: int, file: str | None, keep: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark compares against PostgreSQL COPY: set DATABASE_URL to PostgreSQL.")
        if events < 1 or accounts < 1:
            raise CommandError("--events and --accounts must be at least 1.")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(file) if file else self._write_file(Path(folder) / "events.csv", events, accounts)
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
            self._run(path, generated=file is None, keep=keep)

    def _run(self, path: Path, *, generated: bool, keep: bool) -> None:
        with path.open(newline="") as f:
            header = next(csv.reader(f), [])
        unknown = [name for name in header if name not in COLUMN_TYPES]
        if unknown or "account_id" not in header:
            raise CommandError(f"Not an events file in the import format: unknown columns {unknown or header}.")
        size = path.stat().st_size
        self.stdout.write(f"{path.name}: {size / 1e6:,.1f} MB")
        with path.open("rb") as source:
            limit = plain_copy(columns=[(name, COLUMN_TYPES[name]) for name in header], source=source, csv_header=True)
        self.stdout.write(f"COPY, plain table (the limit): {limit.seconds:7.2f} s  {limit.rate:>10,.0f} rows/s")
        before = UsageEvent.objects.count() if not generated else 0
        job = ImportJob.objects.create(kind=ImportKind.EVENTS, original_name=path.name)
        started = time.perf_counter()
        try:
            with path.open("rb") as source:
                job = import_run(job=job, source=source)
            seconds = time.perf_counter() - started
            if job.status == ImportStatus.FAILED:
                raise CommandError(f"The import failed: {job.error}")
            rate = job.processed_rows / max(seconds, 1e-9)
            self.stdout.write(f"import_data (events)         : {seconds:7.2f} s  {rate:>10,.0f} rows/s")
            self.stdout.write(
                f"  {job.processed_rows:,} rows: {job.created_count:,} created, {job.skipped_count:,} unchanged, "
                f"{job.failed_count:,} failed"
                + (f" ({UsageEvent.objects.count() - before:,} events stored)" if not generated else "")
            )
            verdict = "meets" if rate >= TARGET * limit.rate else "below"
            self.stdout.write(f"ratio import / limit: {rate / limit.rate:.3f}  ({verdict} the {TARGET} target)")
        finally:
            if generated and not keep:
                deleted, _ = Account.objects.filter(external_id__startswith=PREFIX).delete()
                self.stdout.write(f"(deleted {deleted:,} benchmark rows)")
            if not keep:
                job.delete()

    def _write_file(self, path: Path, events: int, accounts: int) -> Path:
        """A deterministic events file for `accounts` benchmark accounts (created here), one event a second."""
        Account.objects.bulk_create(
            [Account(external_id=f"{PREFIX}acc-{i}", name=f"Import benchmark {i}") for i in range(accounts)],
            ignore_conflicts=True,
        )
        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        kinds = ("login", "report_viewed", "invoice_created", "invoice_sent", "export")
        with path.open("w", newline="") as f:
            writer = SafeCsvWriter(f)
            writer.writerow(["account_id", "event_time", "event_type", "user_id", "message_id", "properties"])
            for i in range(events):
                writer.writerow([
                    f"{PREFIX}acc-{i % accounts}", (start + dt.timedelta(seconds=i)).isoformat(), kinds[i % len(kinds)],
                    f"u{i % 5000}", f"{PREFIX}{i}", orjson.dumps({"n": i, "plan": "pro"}).decode(),
                ])  # fmt: skip
        return path
