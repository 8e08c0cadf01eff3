"""`manage.py benchmark_pages`: server time of the dashboard and Customer 360 pages, p50 / p95 over N requests.

Requests go through Django's test client in this process, so the figures are server time (middleware, views,
queries, templates) without network or browser. Each page's HTMX partials are found in its `hx-get` attributes
and timed as the requests they are. `/healthz/` (one trivial query) is the floor measured in the same run.
"""

from __future__ import annotations

import random
import re
import statistics
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client

from accounts.models import Account, Subscription, SurveyResponse, UsageEvent
from dashboards.selectors import latest_run
from dashboards.services import kpi_facts_refresh

TARGET_MS = 150  # DESIGN.md: dashboard and Customer 360 pages ≤ 150 ms server time at the 95th percentile
HX_GET = re.compile(r'hx-get="([^"]+)"[^>]*hx-trigger="load"')


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


class Command(BaseCommand):
    help = "Time the dashboard and Customer 360 pages (and their partials) server-side: p50 / p95 / max."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=50, help="Requests per URL (default 50).")
        parser.add_argument("--user", help="Username to sign in as (default: the first active superuser).")
        parser.add_argument("--accounts", type=int, default=20, help="Customer 360 pages of this many random accounts.")
        parser.add_argument("--refresh", action="store_true", help="Rebuild the KPI facts first (and time it).")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, requests: int, user: str | None, accounts: int, refresh: bool, seed: int, **options):
        users = get_user_model().objects.filter(is_active=True)
        signed_in = users.filter(username=user).first() if user else users.filter(is_superuser=True).first()
        if signed_in is None:
            raise CommandError("No such user: give --user with an active username (a manager or admin).")
        host = next((h for h in settings.ALLOWED_HOSTS if h not in ("*", "") and not h.startswith(".")), "localhost")
        # HTTPS (as forwarded by the TLS proxy, or directly), so SECURE_SSL_REDIRECT does not answer 301.
        client = Client(HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https", **{"wsgi.url_scheme": "https"})
        client.force_login(signed_in)

        self.stdout.write(self._scale())
        if refresh or latest_run() is None:
            run = kpi_facts_refresh()
            self.stdout.write(
                f"KPI facts rebuilt in {run.duration.total_seconds():.1f} s ({run.period_rows:,} period rows, "
                f"{run.cohort_rows:,} cohort rows)."
            )
        else:
            run = latest_run()
            self.stdout.write(f"KPI facts of {run.finished_at:%Y-%m-%d %H:%M} ({run.period_rows:,} period rows).")

        self.stdout.write(f"\n{'request':62} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        self._time(client, "/healthz/ (floor: one query)", ["/healthz/"], requests, partial=False)
        over = []
        for label, urls, partial in self._dashboard_urls(client):
            over += self._time(client, label, urls, requests, partial=partial)
        pks = list(Account.objects.values_list("pk", flat=True).order_by("pk"))
        sample = random.Random(seed).sample(pks, min(accounts, len(pks)))
        if sample:
            for label, urls, partial in self._customer_360_urls(client, sample):
                over += self._time(client, label, urls, requests, partial=partial)
        verdict = "all within" if not over else f"{len(over)} over"
        self.stdout.write(f"\nTarget p95 ≤ {TARGET_MS} ms per request: {verdict}.")
        for label in over:
            self.stdout.write(f"  over: {label}")

    def _scale(self) -> str:
        counts = {
            "accounts": Account.objects.count(),
            "subscriptions": Subscription.objects.count(),
            "usage events": UsageEvent.objects.count(),
            "survey responses": SurveyResponse.objects.count(),
        }
        figures = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        return f"Scale: {figures} ({connection.vendor})."

    def _dashboard_urls(self, client: Client):
        yield "/dashboard/ (page)", ["/dashboard/"], False
        page = client.get("/dashboard/").content.decode()
        for url in HX_GET.findall(page):
            url = url.replace("&amp;", "&")
            yield f"  {url.split('?')[0]}", [url], True
        yield "/dashboard/ filtered to SMB, 6 months", ["/dashboard/?period=6m&segment=smb"], False
        for url in HX_GET.findall(client.get("/dashboard/?period=6m&segment=smb").content.decode()):
            yield f"  {url.split('?')[0]} (SMB, 6 months)", [url.replace("&amp;", "&")], True

    def _customer_360_urls(self, client: Client, pks: list[int]):
        pages = [f"/accounts/{pk}/" for pk in pks]
        yield f"Customer 360 /accounts/<id>/ ({len(pks)} accounts)", pages, False
        partials: dict[str, list[str]] = {}
        for url in pages:
            for partial in HX_GET.findall(client.get(url).content.decode()):
                partial = partial.replace("&amp;", "&")
                partials.setdefault(re.sub(r"/\d+/", "/<id>/", partial), []).append(partial)
        for label, urls in partials.items():
            yield f"  {label}", urls, True

    def _time(self, client: Client, label: str, urls: list[str], n: int, *, partial: bool) -> list[str]:
        headers = {"HTTP_HX_REQUEST": "true"} if partial else {}
        client.get(urls[0], **headers)  # warm up: template and connection set-up are not what we measure
        times = []
        for i in range(n):
            url = urls[i % len(urls)]
            started = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}.")
        p95 = _percentile(times, 0.95)
        self.stdout.write(
            f"{label[:62]:62} {n:>4} {statistics.median(times):>8.1f} {p95:>8.1f} {max(times):>8.1f}"
            + ("  OVER" if p95 > TARGET_MS else "")
        )
        return [label] if p95 > TARGET_MS and not label.startswith("/healthz/") else []
