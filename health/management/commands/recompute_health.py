"""`manage.py recompute_health [--backfill-days N]`: metrics and health snapshots now (and for past days)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from health import services


class Command(BaseCommand):
    help = "Recompute metrics and health snapshots for today; --backfill-days N also fills the N-1 days before."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--backfill-days", type=int, default=1, help="Days of history to (re)compute.")

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        days = max(options["backfill_days"], 1)
        services.health_backfill(days=days, log=lambda line: self.stdout.write(line))
        self.stdout.write(self.style.SUCCESS(f"Scored {days} day(s) in {time.perf_counter() - started:.1f}s."))
