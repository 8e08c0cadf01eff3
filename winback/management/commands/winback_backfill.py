"""`manage.py winback_backfill`: churn records and reactivations from the whole subscription history, keyword
themes on every comment, and one clustering of the comments no theme caught. Idempotent; prints what it did."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from winback import services


class Command(BaseCommand):
    help = "Backfill churn records (with reasons and reactivations) from past subscriptions, tag and cluster comments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clusters", type=int, default=6, help="Number of comment clusters (default 6).")
        parser.add_argument("--method", choices=["nmf", "kmeans"], default="nmf")
        parser.add_argument("--no-cluster", action="store_true", help="Skip clustering.")

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        churn = services.churn_capture_from_subscriptions()
        self.stdout.write(
            f"Churn: {churn['churn_records']} new record(s) over {churn['accounts']} account(s) with subscriptions, "
            f"{churn['reactivations']} reactivation(s) ({time.perf_counter() - started:.1f}s)"
        )
        step = time.perf_counter()
        tagged = services.themes_tag_responses()
        self.stdout.write(f"Themes: {tagged} comment tag(s) added ({time.perf_counter() - step:.1f}s)")
        if not options["no_cluster"]:
            step = time.perf_counter()
            run = services.themes_cluster(n_clusters=options["clusters"], method=options["method"])
            seconds = time.perf_counter() - step
            self.stdout.write(f"Clusters: {run.n_clusters} over {run.n_comments} untagged comment(s) ({seconds:.1f}s)")
            for cluster in run.clusters.all():
                self.stdout.write(f"  {cluster.size:>5}  {cluster.label}")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.1f}s"))
