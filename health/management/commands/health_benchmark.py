"""`manage.py health_benchmark`: the full health recompute at scale against one raw SQL aggregate over the same
events window, timed in the same run, printed with their ratio.

By default it generates synthetic accounts (external ids BENCH-…) with one subscription each and usage events
spread over the window (PostgreSQL COPY), builds their daily rollups, then times:
- raw: one `SELECT account_id, count(*), count(DISTINCT user_id), count(DISTINCT day), max(occurred_at) …
  GROUP BY account_id` over the window's events, fetched to the client;
- recompute: `health_recompute()` — metrics of every scored account (rollups + a 30-day distinct aggregate +
  tickets, surveys, subscriptions), scoring with the published profiles, metrics and snapshot rows written,
  cached score/band/trend updated on Account.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Subscription, UsageEvent
from health import conf, services
from health.bulk import copy_frame
from health.rollups import rollups_rebuild

PREFIX = "BENCH-"


class Command(BaseCommand):
    help = "Benchmark: full health recompute vs one raw SQL aggregate over the same events window (same run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=100_000)
        parser.add_argument("--events", type=int, default=10_000_000)
        parser.add_argument("--days", type=int, default=60, help="Events window, ending today (default 60).")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--reuse", action="store_true", help="Keep the BENCH data of a previous run.")
        parser.add_argument("--cleanup", action="store_true", help="Delete the BENCH data afterwards.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL (DATABASE_URL=postgres://…): it loads data with COPY.")
        today = timezone.localdate()
        window_start = today - dt.timedelta(days=options["days"] - 1)
        start_at = dt.datetime.combine(window_start, dt.time.min, tzinfo=dt.UTC)
        end_at = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        if not options["reuse"]:
            self._delete()
            started = time.perf_counter()
            self._generate(options, start_at, end_at)
            self.stdout.write(f"generated in {time.perf_counter() - started:.1f}s")
            started = time.perf_counter()
            result = rollups_rebuild(start=window_start, end=today, chunk_days=7)
            self.stdout.write(
                f"daily rollups for the window: {result['rows']:,} rows in {time.perf_counter() - started:.1f}s"
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        accounts = Account.objects.count()
        events = UsageEvent.objects.filter(occurred_at__gte=start_at, occurred_at__lt=end_at).count()

        raw_first = self._raw(start_at, end_at)
        started = time.perf_counter()
        result = services.health_recompute()
        recompute = time.perf_counter() - started
        raw_second = self._raw(start_at, end_at)
        raw = min(raw_first, raw_second)

        cores = _cores()
        self.stdout.write(
            f"\nscale: {accounts:,} accounts ({result['accounts']:,} scored), {events:,} events in the "
            f"{options['days']}-day window {window_start} … {today}; PostgreSQL {connection.pg_version // 10000}, "
            f"{cores} cores"
        )
        self.stdout.write(f"raw SQL aggregate over the window: {raw_first:.2f}s, again {raw_second:.2f}s")
        self.stdout.write(f"full health recompute:            {recompute:.2f}s")
        self.stdout.write(self.style.SUCCESS(f"ratio recompute / raw aggregate:  {recompute / raw:.2f}×"))
        if options["cleanup"]:
            self._delete()

    def _raw(self, start_at: dt.datetime, end_at: dt.datetime) -> float:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT account_id, count(*), count(DISTINCT user_id), "
                "count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date), max(occurred_at) "
                "FROM accounts_usageevent WHERE occurred_at >= %s AND occurred_at < %s GROUP BY account_id",
                [start_at, end_at],
            )
            cursor.fetchall()
        return time.perf_counter() - started

    def _delete(self) -> None:
        bench = Account.objects.filter(external_id__startswith=PREFIX)
        if not bench.exists():
            return
        started = time.perf_counter()
        with connection.cursor() as cursor:
            ids = "SELECT id FROM accounts_account WHERE external_id LIKE %s"
            # Raw deletes: the ORM's cascade would load millions of rows into memory.
            for table in ("health_healthsnapshot", "health_accountmetrics", "health_usagedaily",
                          "health_featurefirstuse", "accounts_usageevent", "accounts_subscription"):  # fmt: skip
                cursor.execute(f"DELETE FROM {table} WHERE account_id IN ({ids})", [PREFIX + "%"])
        bench.delete()
        self.stdout.write(f"deleted previous benchmark data in {time.perf_counter() - started:.1f}s")

    def _generate(self, options: dict, start_at: dt.datetime, end_at: dt.datetime) -> None:
        rng = np.random.default_rng(options["seed"])
        n, e = options["accounts"], options["events"]
        created = timezone.now() - dt.timedelta(days=400)
        with transaction.atomic():
            copy_frame(
                Account,
                pd.DataFrame(
                    {
                        "external_id": [f"{PREFIX}{i:07d}" for i in range(n)],
                        "name": [f"Benchmark {i}" for i in range(n)],
                        "segment": rng.choice(["smb", "mid_market", "enterprise"], n, p=[0.64, 0.28, 0.08]),
                        "plan": "growth",
                        "status": "active",
                        "created_at": created.isoformat(),
                        "updated_at": created.isoformat(),
                    }
                ),
            )
        ids = np.array(
            Account.objects.filter(external_id__startswith=PREFIX).order_by("external_id").values_list("pk", flat=True)
        )
        seats = rng.integers(1, 25, n)
        with transaction.atomic():
            copy_frame(
                Subscription,
                pd.DataFrame(
                    {
                        "account_id": ids,
                        "product": "growth",
                        "mrr": (49 + 19 * seats).astype(float),
                        "quantity": seats,
                        "units": "seats",
                        "billing_period": 1,
                        "start_date": (timezone.localdate() - dt.timedelta(days=400)).isoformat(),
                        "status": "active",
                        "created_at": created.isoformat(),
                    }
                ),
            )
        # Busy accounts are few and heavy: lognormal engagement weights.
        weights = rng.lognormal(0, 1.0, n)
        kinds = np.array([*conf.get("KEY_EVENTS"), "login", "login", "login"], dtype=object)
        span = (end_at - start_at).total_seconds()
        chunk = 1_000_000
        for offset in range(0, e, chunk):
            m = min(chunk, e - offset)
            account = ids[rng.choice(n, m, p=weights / weights.sum())]
            seconds = rng.uniform(0, span, m)
            occurred = pd.Timestamp(start_at) + pd.to_timedelta(seconds, unit="s")
            stamps = occurred.strftime("%Y-%m-%d %H:%M:%S+00")
            with transaction.atomic():
                copy_frame(
                    UsageEvent,
                    pd.DataFrame(
                        {
                            "account_id": account,
                            "user_id": np.char.add("u", rng.integers(1, 12, m).astype(str)),
                            "event_type": kinds[rng.integers(0, len(kinds), m)],
                            "occurred_at": stamps,
                            "received_at": stamps,
                            "message_id": [f"bench-{options['seed']}-{offset + i}" for i in range(m)],
                        }
                    ),
                )
            self.stdout.write(f"  events {offset + m:,}/{e:,}")


def _cores() -> int:
    return os.cpu_count() or 1
