"""`manage.py simulate`: fill the database with a believable SaaS history for demos and benchmarks."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from contextlib import ExitStack

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from demo.load import SimulationExists, simulation_exists, simulation_load
from demo.simulator import MECHANISMS, simulation


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD).") from None


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1.")
    return number


class Command(BaseCommand):
    help = (
        "Generate demo data: CSM users, accounts in monthly cohorts, subscriptions with upgrades, churn and "
        "win-backs, usage events, tickets, surveys, notes and tasks, ending today (or --end-date)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=_positive, default=300, help="Number of accounts (default 300).")
        parser.add_argument("--months", type=_positive, default=18, help="Months of history (default 18).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed; same seed and end date, same data.")
        parser.add_argument("--end-date", type=_date, help="Last day of the history, YYYY-MM-DD (default today).")
        parser.add_argument(
            "--mechanism", default="default", choices=MECHANISMS,
            help="How accounts churn (default: the usual mix); the others test the churn model on other histories.",
        )  # fmt: skip
        parser.add_argument(
            "--replace", action="store_true", help="Delete previously simulated accounts (ACC-…) and their data first."
        )

    def handle(self, *args, **options) -> None:
        if options["seed"] < 0:
            raise CommandError("--seed must not be negative.")
        # Checked again inside the load transaction; this early check just spares generating for nothing.
        if not options["replace"] and simulation_exists():
            raise CommandError(
                "Simulated accounts (external ids starting with ACC-) already exist. "
                "Run with --replace to delete them and simulate again."
            )
        end_date = options["end_date"] or timezone.localdate()
        started = time.perf_counter()
        with ExitStack() as stack:
            try:
                data = stack.enter_context(
                    simulation(
                        accounts=options["accounts"],
                        months=options["months"],
                        seed=options["seed"],
                        end_date=end_date,
                        mechanism=options["mechanism"],
                    )
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            generated = time.perf_counter() - started
            try:
                # The events are put together month by month as the load writes them: `written` includes that.
                report = simulation_load(data=data, replace=options["replace"])
            except SimulationExists as exc:
                raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started

        self.stdout.write(
            f"Simulated {options['accounts']} accounts over {options['months']} months ending {end_date} "
            f"(seed {options['seed']}) in {elapsed:.1f} s: generated in {generated:.1f} s, "
            f"written in {elapsed - generated:.1f} s on {connection.vendor}."
        )
        if report.counts.get("deleted_accounts"):
            self.stdout.write(
                f"  replaced {report.counts['deleted_accounts']:,} previously simulated accounts "
                f"(deleted in {report.seconds['delete']:.2f} s)"
            )
        for name in ("users", "accounts", "account_tags", "contacts", "subscriptions", "events", "tickets", "surveys",
                     "activities", "tasks"):  # fmt: skip
            seconds = report.seconds.get(name)
            timing = f"  {seconds:6.2f} s" if seconds is not None else ""
            self.stdout.write(f"  {name:<14}{report.counts[name]:>12,}{timing}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Usage events: {report.counts['events']:,} written with {report.method} in "
                f"{report.seconds['events']:.2f} s = {report.events_per_minute:,.0f} events/minute."
            )
        )
        self.stdout.write(
            f"Snapshots refreshed for {report.refresh['accounts']} accounts in {report.seconds['snapshots']:.2f} s "
            f"({report.refresh['churned']} set churned, {report.refresh['won_back']} set won back by the refresh)."
        )
