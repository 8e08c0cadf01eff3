"""`manage.py import_data`: import a CSV / JSON / JSON Lines file, with progress on stderr.

For scripts: the exit status is 0 when every row was stored, 1 when any row failed (the rows that could be stored
are stored; the per-row error report is written next to the input as `<file>.errors.csv` unless `--errors` names
another path) and 2 when the file could not be read at all. The summary is always the last line on stdout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.imports.runner import import_run
from accounts.models import ImportJob, ImportKind, ImportStatus
from churnapp.csvsafe import SafeCsvWriter

EXIT_ROWS_FAILED = 1


class Command(BaseCommand):
    help = (
        "Import a CSV / JSON / JSON Lines file: manage.py import_data --kind events events.csv (progress on stderr). "
        "Exits 1 when any row failed (error report next to the file), 2 when the file could not be imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=ImportKind.values)
        parser.add_argument("file")
        parser.add_argument(
            "--errors", help="Where to write the per-row error report (default: <file>.errors.csv next to the input)."
        )

    def handle(self, *args, kind: str, file: str, errors: str | None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}", returncode=2)
        job = ImportJob.objects.create(kind=kind, original_name=path.name)
        started = time.monotonic()
        with path.open("rb") as source:
            job = import_run(job=job, source=source, progress=lambda j: self._bar(j, started))
        sys.stderr.write("\n")
        if job.status == ImportStatus.FAILED:
            raise CommandError(f"Import #{job.pk} failed: {job.error}", returncode=2)
        seconds = time.monotonic() - started
        report = None
        if job.failed_count:
            report = Path(errors) if errors else path.with_name(f"{path.name}.errors.csv")
            with report.open("w", newline="") as out:
                writer = SafeCsvWriter(out)
                writer.writerow(["row", "error", "data"])
                writer.writerows(job.row_errors.values_list("row_number", "message", "raw").iterator())
            self.stdout.write(f"Error report: {report}")
        summary = (
            f"{job.processed_rows} rows in {seconds:.1f} s ({job.processed_rows / max(seconds, 1e-9):,.0f} rows/s): "
            f"{job.created_count} created, {job.updated_count} updated, {job.skipped_count} unchanged, "
            f"{job.failed_count} failed (import #{job.pk})."
        )
        if job.failed_count:
            self.stdout.write(self.style.ERROR(summary))
            self.stdout.flush()
            raise SystemExit(EXIT_ROWS_FAILED)
        self.stdout.write(summary)

    def _bar(self, job: ImportJob, started: float) -> None:
        done = job.processed_rows
        rate = done / max(time.monotonic() - started, 1e-9)
        if job.total_rows:
            width = 30
            filled = int(width * min(done, job.total_rows) / job.total_rows)
            bar = "#" * filled + "-" * (width - filled)
            line = f"\r[{bar}] {done:,}/{job.total_rows:,} rows  {rate:,.0f} rows/s  {job.failed_count:,} failed"
        else:
            line = f"\r{done:,} rows  {rate:,.0f} rows/s  {job.failed_count:,} failed"
        sys.stderr.write(line)
        sys.stderr.flush()
