"""`manage.py automations_backtest_benchmark [--accounts 100000 --months 12] [--commit]`: the rule backtest's speed.

Builds a synthetic history for N accounts set-based in the database (bench_history), then backtests every built-in
rule over it and prints each one's time next to a baseline measured in the same run: one aggregate over the same
history rows (snapshots per day). By default everything happens in a scratch transaction rolled back at the end;
with --commit (in a scratch database) the history is committed and vacuumed first, as a live database's tables
are (index-only scans need the visibility map), and left in place."""

from __future__ import annotations

import datetime as dt
import os
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from automations.backtest import rule_backtest
from automations.backtest.bench_history import baseline_sql, build, loading
from automations.builtins import RULES, builtins_install
from churnapp.months import add_months


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time the rule backtest of every built-in rule on a synthetic history of N accounts (scratch transaction)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=100_000)
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument(
            "--commit", action="store_true",
            help="Commit and vacuum the history before measuring, and keep it (use a scratch database).",
        )  # fmt: skip

    def handle(self, *args, **options):
        accounts, months = options["accounts"], options["months"]
        if accounts < 1 or not 1 <= months <= 24:
            raise CommandError("--accounts must be at least 1 and --months from 1 to 24.")
        today = timezone.localdate()
        self.stdout.write(f"Database: {connection.vendor} {connection.settings_dict.get('NAME')}; "
                          f"{os.cpu_count()} cores; load average {_load()}")  # fmt: skip
        if options["commit"]:
            with transaction.atomic():
                self._build(accounts, months, today)
            if connection.vendor == "postgresql":
                began = time.perf_counter()
                # VACUUM cannot run inside a transaction (a caller's, e.g. a test's): ANALYZE alone there.
                vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
                with connection.cursor() as cursor:
                    cursor.execute(vacuum)
                self.stdout.write(f"{vacuum.capitalize()} in {time.perf_counter() - began:.1f} s")
            self._measure(months, today)
            return
        try:
            with transaction.atomic():
                self._build(accounts, months, today)
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE")
                self._measure(months, today)
                raise _Rollback
        except _Rollback:
            self.stdout.write("Scratch history rolled back.")

    def _build(self, accounts: int, months: int, today: dt.date) -> None:
        builtins_install()
        began = time.perf_counter()
        with loading():
            counts = build(accounts=accounts, start=add_months(today, -months), end=today - dt.timedelta(days=1))
        built = time.perf_counter() - began
        self.stdout.write(f"History built in {built:.1f} s: " + ", ".join(f"{k} {n:,}" for k, n in counts.items()))

    def _measure(self, months: int, today: dt.date) -> None:
        out = self.stdout.write
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(baseline_sql())
            days = len(cursor.fetchall())
        baseline = time.perf_counter() - began
        out(f"Baseline (one aggregate: health snapshots per day, {days} days): {baseline:.2f} s")
        header = f"{'rule':<26} {'seconds':>8} {'× base':>7} {'fires':>8} {'accounts':>8} {'prec.':>6} {'recall':>6} "
        out(header + f"{'lift':>6} {'tasks/wk':>9} {'emails/wk':>9}")
        total = 0.0
        for key, *_ in RULES:
            began = time.perf_counter()
            r = rule_backtest(rule=key, months=months, today=today)
            took = time.perf_counter() - began
            total += took
            out(f"{key:<26} {took:>8.2f} {took / baseline if baseline else 0:>7.1f} {r['fires']:>8,} "
                f"{r['accounts_fired']:>8,} {_f(r['precision'])} {_f(r['recall'])} {_f(r['lift'])} "
                f"{r['tasks_per_week']:>9.1f} {r['emails_per_week']:>9.1f}")  # fmt: skip
        out(f"All {len(RULES)} rules: {total:.1f} s; load average {_load()}")


def _f(value) -> str:
    return f"{value:>6.2f}" if value is not None else f"{'—':>6}"


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"
