"""`manage.py winback_benchmark_pages`: server time of the win-back overview and Feedback pages reading their page
facts, next to what computing the same figures per request costs (the baseline, measured in the same run)."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import Account
from winback import services
from winback.selectors.page_facts import feedback_figures, overview_figures


def _p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Time the win-back overview and Feedback pages (p50/p95 ms) against computing their figures per request."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=40, help="Requests per page (default 40).")
        parser.add_argument("--user", help="Username to sign in as (default: the first superuser).")

    def handle(self, *args, requests: int, user: str | None, **options) -> None:
        if requests < 1:
            raise CommandError("--requests must be at least 1.")
        users = get_user_model().objects
        account = users.filter(username=user).first() if user else users.filter(is_superuser=True).first()
        if account is None:
            raise CommandError("No such user (create one with `createsuperuser` or pass --user).")
        client = Client(SERVER_NAME="localhost")
        client.force_login(account)
        started = time.perf_counter()
        services.page_facts_refresh()
        refresh = time.perf_counter() - started
        self.stdout.write(
            f"{Account.objects.count():,} accounts on {connection.vendor}; facts refresh took {refresh * 1000:.0f} ms"
        )
        self.stdout.write(f"{'':<34}{'p50 ms':>10}{'p95 ms':>10}")
        pages = [
            ("overview", reverse("winback:overview"), overview_figures),
            ("feedback", reverse("winback:feedback"), feedback_figures),
        ]
        for name, url, figures in pages:
            if client.get(url).status_code != 200:  # warm-up
                raise CommandError(f"{url} did not answer 200.")
            page = []
            for _ in range(requests):
                t = time.perf_counter()
                response = client.get(url)
                page.append((time.perf_counter() - t) * 1000)
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}.")
            live = []
            for _ in range(requests):
                t = time.perf_counter()
                figures()
                live.append((time.perf_counter() - t) * 1000)
            per_request = [a + b for a, b in zip(page, live, strict=True)]
            self.stdout.write(f"{name + ' page (reads facts)':<34}{_p(page, 0.5):>10.1f}{_p(page, 0.95):>10.1f}")
            self.stdout.write(f"{'  figures computed live':<34}{_p(live, 0.5):>10.1f}{_p(live, 0.95):>10.1f}")
            self.stdout.write(
                f"{'  baseline: page + live figures':<34}{_p(per_request, 0.5):>10.1f}{_p(per_request, 0.95):>10.1f}"
            )
