"""`manage.py automations_benchmark`: one evaluation cycle of 10 trigger rules over N accounts (run it on PostgreSQL).

Creates N synthetic accounts (external id `bench-…`) with tickets, NPS answers, subscriptions, a health snapshot
31 days ago and today's metrics, once; then times phase 1 of a cycle (set-based candidate selection and the
insert of the executions) rule by rule, next to a raw SQL baseline on the same data, and phase 2 (running the
actions of a sample of executions). The benchmark rules are saved disabled and their executions are deleted at
the end, so the real workers never act on them. `--cleanup` removes the synthetic data.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Subscription, SupportTicket, SurveyResponse, Tag, Task
from automations import conf, crossings, playbooks, rules
from automations.models import Enrolment, Playbook, PlaybookStep, Rule, RuleExecution
from health.models import AccountMetrics, HealthProfileVersion, HealthSnapshot

PREFIX = "bench-"
ACTIVE = {"type": "status", "in": ["onboarding", "active", "at_risk"]}
BENCH_RULES = [
    ("health-below-70", {"all": [{"type": "health_below", "value": 70}, ACTIVE]}),
    ("health-dropped", {"type": "health_dropped", "points": 15, "days": 30}),
    ("churn-probability", {"type": "churn_probability_at_least", "value": 0.6}),
    ("ticket-open-5-days", {"all": [{"type": "ticket_open_longer", "days": 5}, ACTIVE]}),
    ("three-tickets-7-days", {"type": "tickets_in_days", "count": 3, "days": 7}),
    ("nps-below-7", {"type": "nps_at_most", "value": 6, "days": 30}),
    ("inactive-10-days", {"all": [{"type": "inactive_days", "days": 10}, {"type": "status", "in": ["active"]}]}),
    ("silent-churn", {"all": [{"type": "no_expansion_days", "days": 90}, {"type": "renewal_within", "days": 60}]}),
    ("upsell-seats", {"all": [{"type": "seat_utilisation_at_least", "percent": 90}, ACTIVE]}),
    ("payment-or-milestone", {"any": [{"type": "payment_failed", "days": 7}, {"type": "milestone_missed"}]}),
]


class Command(BaseCommand):
    help = "Benchmark one evaluation cycle of 10 trigger rules over N accounts (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=100_000)
        parser.add_argument("--sample", type=int, default=2000, help="Executions whose actions are run and timed.")
        parser.add_argument(
            "--actions",
            choices=["webhook", "mix"],
            default="webhook",
            help="The rules' actions: an outgoing webhook (default), or a mix of create task + add tag + webhook "
            "(its tasks and tag are deleted at the end).",
        )
        parser.add_argument("--cleanup", action="store_true", help="Delete the synthetic accounts and rules.")

    def handle(self, *args, accounts: int, sample: int, cleanup: bool, actions: str = "webhook", **options) -> None:
        if cleanup:
            Rule.objects.filter(key__startswith=PREFIX).delete()
            n, _ = Account.objects.filter(external_id__startswith=PREFIX).delete()
            self.stdout.write(f"Deleted {n} benchmark rows.")
            return
        self._ensure_data(accounts)
        total_accounts = Account.objects.count()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        actions_list = [{"type": "webhook", "event": "bench.fired"}]
        if actions == "mix":
            actions_list = [{"type": "create_task", "title": "Benchmark: {{ account.name }}", "due_in_days": 3},
                            {"type": "add_tag", "tag": f"{PREFIX}tag"}, *actions_list]  # fmt: skip
        bench = [
            rules.rule_save(key=f"{PREFIX}{key}", name=f"Benchmark: {key}", conditions_tree=tree, enabled=False,
                            actions_list=actions_list, cooldown_days=1)
            for key, tree in BENCH_RULES
        ]  # fmt: skip
        RuleExecution.objects.filter(rule__in=bench).delete()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            with connection.cursor() as cursor:  # start from a clean table: no dead rows of an earlier run
                cursor.execute(f"VACUUM (ANALYZE) {RuleExecution._meta.db_table}")

        baseline = self._baseline()
        reference = 10 * (baseline["scan"] + baseline["tickets"]) / 2  # 10 queries, half scans, half aggregates
        load_before = os.getloadavg()[0]
        # Both cycles as `rules.rules_cycle` runs them: the rules one by one, then the statistics once.
        now = timezone.now()
        rows, total = [], 0.0
        for rule in bench:
            start = time.perf_counter()
            fired = rules.rule_evaluate(rule=rule, now=now, analyze=False)
            seconds = time.perf_counter() - start
            total += seconds
            rows.append((rule.key.removeprefix(PREFIX), fired, seconds))
        fired_total = sum(fired for _, fired, _ in rows)
        plain_insert = self._insert_baseline(fired_total)
        start = time.perf_counter()
        analyzed = rules.executions_analyze(inserted=fired_total)
        analyze_seconds = time.perf_counter() - start
        total += analyze_seconds
        # The recurring cycle: the same rules five minutes later, every account that fired now in cooldown.
        later = now + dt.timedelta(minutes=5)
        start = time.perf_counter()
        refired = sum(rules.rule_evaluate(rule=rule, now=later, analyze=False) for rule in bench)
        rules.executions_analyze(inserted=refired)
        steady = time.perf_counter() - start
        # A crossing tick: the accounts whose time-based thresholds of these rules were crossed in 15 seconds.
        start = time.perf_counter()
        crossing = crossings.crossing_accounts(since=later - dt.timedelta(seconds=15), until=later, rules=bench)
        tick = time.perf_counter() - start
        load = os.getloadavg()

        tickets, answers = SupportTicket.objects.count(), SurveyResponse.objects.count()
        self.stdout.write(f"Machine: {platform.node()} · {os.cpu_count()} cores · {connection.vendor} "
                          f"{connection.Database.__name__} · {total_accounts:,} accounts "
                          f"({tickets:,} tickets, {answers:,} survey answers) · load average {load_before:.2f} "
                          f"before, {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} after (1, 5, 15 min)")  # fmt: skip
        self.stdout.write(f"{'rule':<24}{'fired':>10}{'seconds':>10}")
        for key, fired, seconds in rows:
            self.stdout.write(f"{key:<24}{fired:>10,}{seconds:>10.3f}")
        if analyzed:
            self.stdout.write(f"{'(statistics, once)':<24}{'':>10}{analyze_seconds:>10.3f}")

        def verdict(seconds: float, floor: float | None = None) -> str:
            ratios = [f"{seconds / reference:.1f}× the 10 baseline queries" if reference else "no baseline"]
            if floor:
                ratios.append(f"{seconds / floor:.1f}× the plain INSERT")
            return f"{seconds:.2f} s (target ≤ 5 s: {'OK' if seconds <= 5 else 'OVER TARGET'}; {', '.join(ratios)})"

        self.stdout.write(f"Phase 1, cold cycle — 10 rules over {total_accounts:,} accounts, nothing in cooldown: "
                          f"{verdict(total, plain_insert)}, {fired_total:,} executions inserted "
                          f"({fired_total / total:,.0f} per s)")  # fmt: skip
        self.stdout.write(f"Phase 1, recurring cycle — the same 10 rules 5 minutes later over {total_accounts:,} "
                          f"accounts: {verdict(steady)}; {refired:,} fired")  # fmt: skip
        self.stdout.write(f"Crossing tick — the accounts crossing a time-based threshold of these rules in 15 s: "
                          f"{tick * 1000:.0f} ms, {len(crossing):,} accounts to evaluate (the tick then evaluates "
                          "the rules for those only)")  # fmt: skip
        self.stdout.write(f"Baseline — raw SQL on the same data, in this run (medians of 3): one full scan of accounts "
                          f"{baseline['scan']:.3f} s, one ticket aggregate per account {baseline['tickets']:.3f} s; "
                          f"10 such queries ≈ {reference:.2f} s")  # fmt: skip
        if plain_insert is not None:
            self.stdout.write(f"Baseline — a plain INSERT of {fired_total:,} rows (no conditions, one small JSON "
                              f"value each) into a copy of the executions table with its indexes, rolled back: "
                              f"{plain_insert:.2f} s")  # fmt: skip
        start = time.perf_counter()
        ran = rules.executions_run_pending(limit=sample, rule_ids=[r.pk for r in bench])
        phase2 = time.perf_counter() - start
        RuleExecution.objects.filter(rule__in=bench).delete()
        Task.objects.filter(account__external_id__startswith=PREFIX, title__startswith="Benchmark: ").delete()
        Tag.objects.filter(name=f"{PREFIX}tag").delete()
        if ran:
            kinds = " + ".join(a["type"] for a in actions_list)
            self.stdout.write(f"Phase 2 — actions ({kinds}) of {ran:,} executions: {phase2:.2f} s "
                              f"({ran / phase2:,.0f} per s, set-based, {conf.get('ACTIONS_CHUNK')} executions of a "
                              "rule per transaction)")  # fmt: skip
        self._playbook(sample)

    def _playbook(self, n: int) -> None:
        """Enrol `n` synthetic accounts in a playbook (task, then wait 7 days) and time advancing them all.

        All in one transaction rolled back at the end: no enrolment, task or queued advance is left behind.
        """
        with transaction.atomic():
            playbook = Playbook.objects.create(key=f"{PREFIX}playbook", name="Benchmark playbook", enabled=False)
            PlaybookStep.objects.create(playbook=playbook, order=1, kind="task",
                                        config={"title": "Benchmark: check in", "due_in_days": 3})  # fmt: skip
            PlaybookStep.objects.create(playbook=playbook, order=2, kind="wait", config={"days": 7})
            accounts = Account.objects.filter(external_id__startswith=PREFIX).order_by("pk")[:n]
            now = timezone.now()
            # Due enrolments as a bulk enrolment leaves them, without queueing their immediate advance.
            enrolments = Enrolment.objects.bulk_create(
                [Enrolment(playbook=playbook, account_id=pk, step=1, next_run_at=now, source="benchmark",
                           enrolled_at=now) for pk in accounts.values_list("pk", flat=True)],
                batch_size=5000,
            )  # fmt: skip
            ids = [e.pk for e in enrolments]
            start = time.perf_counter()
            advanced = sum(len(playbooks.advance_many(enrolment_ids=ids[i : i + playbooks.ADVANCE_CHUNK]))
                           for i in range(0, len(ids), playbooks.ADVANCE_CHUNK))  # fmt: skip
            seconds = time.perf_counter() - start
            steps = Enrolment.objects.filter(playbook=playbook, step=3).count()
            transaction.set_rollback(True)
        self.stdout.write(f"Playbooks — task + wait steps of {advanced:,} due enrolments ({steps:,} now waiting): "
                          f"{seconds:.2f} s ({advanced / seconds:,.0f} per s, set-based, "
                          f"{playbooks.ADVANCE_CHUNK} per transaction)")  # fmt: skip

    def _baseline(self) -> dict[str, float]:
        """Two raw SQL reads of the same data, each the median of 3 runs (the machine may be shared)."""
        queries = {
            "scan": ("SELECT count(*) FROM accounts_account WHERE health_score < 70 AND status <> 'churned'", []),
            "tickets": (
                "SELECT count(*) FROM (SELECT account_id FROM accounts_supportticket "
                "WHERE opened_at >= %s GROUP BY account_id HAVING count(*) >= 3) t",
                [timezone.now() - dt.timedelta(days=7)],
            ),
        }
        out = {}
        with connection.cursor() as cursor:
            for name, (sql, params) in queries.items():
                runs = []
                for _ in range(3):
                    start = time.perf_counter()
                    cursor.execute(sql, params)
                    runs.append(time.perf_counter() - start)
                out[name] = statistics.median(runs)
        return out

    def _insert_baseline(self, rows: int) -> float | None:
        """PostgreSQL: the time of writing `rows` executions with plain SQL — the floor of a cold cycle's insert."""
        if connection.vendor != "postgresql" or not rows:
            return None
        table = connection.ops.quote_name(RuleExecution._meta.db_table)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE bench_insert_baseline (LIKE {table} INCLUDING ALL)")
            start = time.perf_counter()
            cursor.execute(
                'INSERT INTO bench_insert_baseline (rule_id, account_id, "window", matched, status, created_at) '
                "SELECT g / 100000 + 1, g %% 100000 + 1, 0, jsonb_build_object('Health score', g %% 101), "
                "'pending', now() FROM generate_series(0, %s - 1) g",
                [rows],
            )
            seconds = time.perf_counter() - start
            transaction.set_rollback(True)
        return seconds

    def _ensure_data(self, n: int) -> None:
        have = Account.objects.filter(external_id__startswith=PREFIX).count()
        if have >= n:
            return
        self.stdout.write(f"Creating {n - have:,} synthetic accounts with facts (once)…")

        version = HealthProfileVersion.objects.order_by("-pk").first()
        now = timezone.now()
        today = timezone.localdate()
        statuses = ["active", "active", "active", "onboarding", "at_risk", "churned"]
        segments = ["smb", "mid_market", "enterprise"]
        for lo in range(have, n, 10_000):
            hi = min(lo + 10_000, n)
            with transaction.atomic():
                accounts = Account.objects.bulk_create(
                    [Account(external_id=f"{PREFIX}{i}", name=f"Bench {i}", segment=segments[i % 3],
                             status=statuses[i % 6], plan="growth", mrr=Decimal(50 + i % 500), seats=5 + i % 20,
                             last_seen_at=now - dt.timedelta(days=i % 40, hours=i % 24),
                             health_score=(i * 37) % 101, churn_probability=((i * 13) % 100) / 100,
                             renewal_date=today + dt.timedelta(days=i % 365),
                             payment_failed_at=now - dt.timedelta(days=2) if i % 50 == 0 else None,
                             created_at=now - dt.timedelta(days=400))
                     for i in range(lo, hi)],
                    batch_size=2000,
                )  # fmt: skip
                SupportTicket.objects.bulk_create(
                    [SupportTicket(account=a, external_id=f"{PREFIX}{a.pk}-{k}", subject="Bench ticket",
                                   status="open" if (a.pk + k) % 5 == 0 else "resolved",
                                   opened_at=now - dt.timedelta(days=(a.pk * 7 + k * 3) % 60, hours=k))
                     for a in accounts for k in range(1 + a.pk % 3)],
                    batch_size=5000,
                )  # fmt: skip
                SurveyResponse.objects.bulk_create(
                    [SurveyResponse(account=a, kind="nps", score=a.pk % 11,
                                    responded_at=now - dt.timedelta(days=a.pk % 80))
                     for a in accounts if a.pk % 2 == 0],
                    batch_size=5000,
                )  # fmt: skip
                Subscription.objects.bulk_create(
                    [Subscription(account=a, product="growth", mrr=a.mrr, quantity=a.seats,
                                  start_date=today - dt.timedelta(days=30 + a.pk % 600))
                     for a in accounts],
                    batch_size=5000,
                )  # fmt: skip
                if version is not None:
                    HealthSnapshot.objects.bulk_create(
                        [HealthSnapshot(account=a, day=today - dt.timedelta(days=31), version=version,
                                        score=min(100, a.health_score + (a.pk % 30)), factors={})
                         for a in accounts],
                        batch_size=5000,
                    )  # fmt: skip
                AccountMetrics.objects.bulk_create(
                    [
                        AccountMetrics(account=a, day=today, seat_depth=(a.pk % 100) / 95, seats=a.seats)
                        for a in accounts
                    ],
                    batch_size=5000,
                )
            self.stdout.write(f"  {hi:,} / {n:,}")
