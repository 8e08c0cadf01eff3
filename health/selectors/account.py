"""The health section of the Customer 360: the latest snapshot's factor breakdown, the score's trend and
changelog, the churn prediction with its drivers and risk story, sentiment and the last meaningful day."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Account
from health import conf, scoring
from health.models import ChurnPrediction, CsmSentiment, HealthSnapshot, UsageDaily
from health.selectors.drivers import account_metric_facts, churn_drivers, churn_risk_story

TREND_DAYS = 90


def factor_help(key: str) -> str:
    """The definition shown with a factor wherever it appears (breakdown, profile editor)."""
    meaningful = conf.meaningful_activity_definition()
    return {
        "days_since_meaningful": _("Days since the last meaningful day. %(definition)s") % {"definition": meaningful},
        "active_days_30": _("Meaningful days in the last 30 days. %(definition)s") % {"definition": meaningful},
        "active_days_7": _("Meaningful days in the last 7 days. %(definition)s") % {"definition": meaningful},
    }.get(key, "")


def _breakdown(snapshot: HealthSnapshot) -> list[dict]:
    """Factor rows, largest weight first: raw value, normalised 0–100, renormalised weight %, points."""
    factors = {f["key"]: f for f in snapshot.version.factors}
    present_weight = sum(float(f["weight"]) for k, f in factors.items() if k not in snapshot.missing)
    rows = []
    for key, factor in factors.items():
        raw, normalised, contribution = (snapshot.factors.get(key) or [None, None, None])[:3]
        missing = key in snapshot.missing
        rows.append(
            {
                "key": key,
                "label": scoring.factor_label(key),
                "help": factor_help(key),
                "raw": raw,
                "normalised": normalised,
                "weight": float(factor["weight"]),
                "share": 0 if missing or not present_weight else 100 * float(factor["weight"]) / present_weight,
                "contribution": contribution,
                "missing": missing,
            }
        )
    rows.sort(key=lambda r: (r["missing"], -r["weight"]))
    return rows


def changelog(snapshots: list[HealthSnapshot], step: int = 7) -> list[dict]:
    """Weekly comparisons from the newest snapshot back: an entry when the score moved by at least
    HEALTH_CHANGELOG_MIN_POINTS or the band changed. Newest first.

    `snapshots` need day, score, band and version; the factors that explain each entry are read in one query,
    for the entries' snapshots only (the trend's rows come from an index, without their factors).
    """
    by_day = {s.day: s for s in snapshots}
    if not by_day:
        return []
    minimum = conf.get("CHANGELOG_MIN_POINTS")
    pairs = []
    day = max(by_day)
    while day - dt.timedelta(days=step) >= min(by_day):
        new, old = by_day.get(day), by_day.get(day - dt.timedelta(days=step))
        if new and old:
            moved = new.score is not None and old.score is not None and abs(new.score - old.score) >= minimum
            if moved or new.band != old.band or (new.score is None) != (old.score is None):
                pairs.append((new, old))
        day -= dt.timedelta(days=step)
    wanted = {s.pk for pair in pairs for s in pair}
    factors = dict(HealthSnapshot.objects.filter(pk__in=wanted).values_list("pk", "factors")) if wanted else {}
    return [
        {
            "day": new.day,
            "since": old.day,
            "band_from": old.band,
            "band_to": new.band,
            "delta": (new.score - old.score) if new.score is not None and old.score is not None else None,
            "text": scoring.explain_change(factors[old.pk], factors[new.pk], old.score, new.score),
            "version_changed": new.version_id != old.version_id,
        }
        for new, old in pairs
    ]


def trend_chart(snapshots: list[HealthSnapshot], bands: scoring.Bands) -> dict:
    """Chart.js config: the score over the days, with the band thresholds as dashed lines."""
    labels = [date_format(s.day, "MONTH_DAY_FORMAT") for s in snapshots]
    n = len(snapshots)
    return {
        "type": "line",
        "data": {
            "labels": labels,
            "datasets": [
                {"label": _("Health score"), "data": [s.score for s in snapshots], "borderColor": "#3457d5",
                 "backgroundColor": "#3457d5", "pointRadius": 0, "tension": 0, "spanGaps": True},
                {"label": _("Green ≥ %(score)s") % {"score": bands.green_min}, "data": [bands.green_min] * n,
                 "borderColor": "#1f8a4c", "borderDash": [4, 4], "pointRadius": 0, "borderWidth": 1},
                {"label": _("Red < %(score)s") % {"score": bands.yellow_min}, "data": [bands.yellow_min] * n,
                 "borderColor": "#c0392b", "borderDash": [4, 4], "pointRadius": 0, "borderWidth": 1},
            ],
        },
        "options": {
            "maintainAspectRatio": False,
            "animation": False,
            "plugins": {"legend": {"position": "bottom"}},
            "scales": {"y": {"min": 0, "max": 100}, "x": {"ticks": {"maxTicksLimit": 8}}},
        },
    }  # fmt: skip


def account_health(*, account: Account, today: dt.date | None = None) -> dict:
    """Everything the Customer 360 health section shows, in a fixed number of queries."""
    today = today or timezone.localdate()
    # The trend's columns only: an index-only scan of (account, day) INCLUDE (…), not one heap page per day.
    snapshots = list(
        HealthSnapshot.objects.filter(account=account, day__gt=today - dt.timedelta(days=TREND_DAYS), day__lte=today)
        .only("id", "account_id", "day", "score", "band", "version_id")
        .order_by("day")
    )
    latest = HealthSnapshot.objects.select_related("version__profile").get(pk=snapshots[-1].pk) if snapshots else None
    bands = scoring.Bands(latest.version.green_min, latest.version.yellow_min) if latest else scoring.Bands()
    prediction = ChurnPrediction.objects.filter(account=account).select_related("model").order_by("-day").first()
    breakdown = _breakdown(latest) if latest else []
    drivers, story = [], ""
    if prediction is not None:
        facts = account_metric_facts(account=account, day=latest.day if latest else prediction.day)
        drivers = churn_drivers(drivers=prediction.drivers, facts=facts)
        if latest is not None:
            story = churn_risk_story(
                band=latest.band, score=latest.score, probability=prediction.probability,
                horizon_days=prediction.model.horizon_days, drivers=drivers, breakdown=breakdown,
            )  # fmt: skip
    return {
        "account": account,
        "snapshot": latest,
        "breakdown": breakdown,
        "drivers": drivers,
        "risk_story": story,
        "missing_labels": [scoring.factor_label(k) for k in latest.missing] if latest else [],
        "trend_chart": trend_chart(snapshots, bands),
        "trend_chart_id": f"health-trend-{account.pk}",
        "changelog": changelog(snapshots),
        "sentiment": CsmSentiment.objects.filter(account=account, expires_on__gt=today)
        .select_related("author")
        .first(),
        "prediction": prediction,
        "silent_churn": bool(latest and account.metrics.filter(day=latest.day, silent_churn=True).exists()),
        "last_meaningful_day": UsageDaily.objects.filter(account=account, meaningful=True, day__lte=today)
        .order_by("-day")
        .values_list("day", flat=True)
        .first(),
        "meaningful_definition": conf.meaningful_activity_definition(),
    }
