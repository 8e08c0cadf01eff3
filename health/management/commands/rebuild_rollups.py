"""`manage.py rebuild_rollups`: rebuild every daily usage rollup from the raw events."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from health.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Drop and rebuild the daily usage rollups and feature first-use days from all usage events."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        result = rollups_rebuild(log=lambda line: self.stdout.write(line))
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt {result['rows']} account-day rollups over {result['days']} days "
                f"in {time.perf_counter() - started:.1f}s"
                + (f" ({result['skipped']} events outside the accepted dates skipped)." if result["skipped"] else ".")
            )
        )
