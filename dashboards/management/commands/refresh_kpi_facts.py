"""`manage.py refresh_kpi_facts`: rebuild the KPI facts now (the beat task does it every 6 hours)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from dashboards.services import DEFAULT_FACT_MONTHS, kpi_facts_refresh


class Command(BaseCommand):
    help = "Rebuild the precomputed KPI facts the dashboard reads (every pair of month starts, per segment and plan)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months",
            type=int,
            default=DEFAULT_FACT_MONTHS,
            help=f"Months of history (default {DEFAULT_FACT_MONTHS}).",
        )

    def handle(self, *args, months: int, **options) -> None:
        run = kpi_facts_refresh(months=max(1, months))
        self.stdout.write(
            f"KPI facts {run.first_month:%Y-%m} … {run.last_month:%Y-%m} for {run.accounts:,} accounts: "
            f"{run.period_rows:,} period rows, {run.cohort_rows:,} cohort rows in "
            f"{run.duration.total_seconds():.1f} s."
        )
