"""Themes of the comments: counts and NPS per theme, their monthly series, and the latest clustering run with
example comments."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from winback.models import ClusterRun, ResponseTheme, Theme


def theme_stats() -> list[dict]:
    """Each theme's comment count and NPS over its NPS answers."""
    rows = (
        Theme.objects.annotate(
            n=Count("response_links", distinct=True),
            nps_n=Count("response_links", filter=Q(response_links__response__kind="nps")),
            promoters=Count(
                "response_links",
                filter=Q(response_links__response__kind="nps", response_links__response__score__gte=9),
            ),
            detractors=Count(
                "response_links",
                filter=Q(response_links__response__kind="nps", response_links__response__score__lte=6),
            ),
        )
        .order_by("-n", "name")
        .values("pk", "name", "source", "n", "nps_n", "promoters", "detractors")
    )
    return [
        {**r, "nps": round(100 * (r["promoters"] - r["detractors"]) / r["nps_n"], 1) if r["nps_n"] else None}
        for r in rows
    ]


def theme_monthly(*, months: int = 12, today: dt.date | None = None) -> dict:
    """Theme counts and NPS by month over the last `months` months.

    {"months": ["2026-01", …], "series": {theme: [{"count": n, "nps": x or None}, … one per month]}}.
    """
    today = today or timezone.localdate()
    first = (today.replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(day=1)
    rows = (
        ResponseTheme.objects.filter(response__responded_at__date__gte=first)
        .annotate(month=TruncMonth("response__responded_at"))
        .values("theme__name", "month")
        .annotate(
            n=Count("id"),
            nps_n=Count("id", filter=Q(response__kind="nps")),
            promoters=Count("id", filter=Q(response__kind="nps", response__score__gte=9)),
            detractors=Count("id", filter=Q(response__kind="nps", response__score__lte=6)),
        )
        .order_by("month")
    )
    month_keys = []
    day = first
    while day <= today:
        month_keys.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    series: dict[str, list[dict]] = defaultdict(lambda: [{"count": 0, "nps": None} for _ in month_keys])
    index = {m: i for i, m in enumerate(month_keys)}
    for r in rows:
        month = r["month"].date() if isinstance(r["month"], dt.datetime) else r["month"]
        i = index.get(month)
        if i is None:
            continue
        cell = series[r["theme__name"]][i]
        cell["count"] = r["n"]
        if r["nps_n"]:
            cell["nps"] = round(100 * (r["promoters"] - r["detractors"]) / r["nps_n"], 1)
    return {"months": [m.strftime("%Y-%m") for m in month_keys], "series": dict(series)}


def latest_cluster_run() -> ClusterRun | None:
    return ClusterRun.objects.prefetch_related("clusters__theme").first()


def cluster_examples(run: ClusterRun, per_cluster: int = 3) -> list[dict]:
    """The clusters of a run, each with a few example comments."""
    return [
        {
            "cluster": cluster,
            "examples": list(
                cluster.responses.order_by("-responded_at").values_list("comment", flat=True)[:per_cluster]
            ),
        }
        for cluster in run.clusters.all()
    ]
