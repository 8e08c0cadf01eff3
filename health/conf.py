"""Health settings with working defaults; each can be overridden in Django settings (HEALTH_<NAME>)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language, ngettext

_DEFAULTS: dict[str, object] = {
    # Event types that carry value ("key features"); breadth = how many of them an account used in 30 days.
    "KEY_EVENTS": (
        "campaign_created",
        "campaign_sent",
        "report_viewed",
        "template_edited",
        "list_imported",
        "automation_created",
        "integration_connected",
    ),
    # Events that never count as activity of the customer (billing noise).
    "NON_ACTIVITY_EVENTS": ("payment_failed",),
    "PAYMENT_FAILURE_EVENTS": ("payment_failed",),
    # A day is meaningful for an account when some user did at least this many key events that day:
    # a bare login is not value.
    "MEANINGFUL_MIN_KEY_EVENTS": 2,
    # Churn model: label horizon, value of a saved customer (months of MRR), action cost and save rate.
    "CHURN_HORIZON_DAYS": 90,
    "VALUE_MONTHS": 12,
    "ACTION_COST": 150.0,
    "SAVE_RATE": 0.3,
    # Churn model lab: the event types that get their own metrics (empty: the 40 most frequent in the rollups),
    # ratios between related event types (numerator, denominator), months of observations the lab reads,
    # rolling-origin cutoffs and test months per cutoff, and the horizons of the lead-time report.
    "CHURN_EVENT_TYPES": (),
    "CHURN_RATIO_PAIRS": (("campaign_sent", "campaign_created"), ("report_viewed", "login")),
    "LAB_MONTHS": 24,
    "LAB_CUTOFFS": 3,
    "LAB_TEST_MONTHS": 3,
    "LEAD_TIME_HORIZONS": (30, 60, 90),
    # A changelog entry is written when the weekly score change reaches this many points.
    "CHANGELOG_MIN_POINTS": 5,
    "NIGHTLY_INTERVAL": 24 * 60 * 60,
    "RETRAIN_INTERVAL": 7 * 24 * 60 * 60,
}


def get(name: str):
    return getattr(settings, f"HEALTH_{name}", _DEFAULTS[name])


def meaningful_activity_definition() -> str:
    """What counts as meaningful activity, in words, from the settings the rollups use: the one definition behind
    "days since meaningful activity" and "active days", shown wherever those factors are.

    The key events are configured event types (data): English names them in words ("campaign sent"), the other
    languages keep the event types as configured ("campaign_sent")."""
    n = get("MEANINGFUL_MIN_KEY_EVENTS")
    english = (get_language() or "en").startswith("en")
    events = ", ".join(str(e).replace("_", " ") if english else str(e) for e in get("KEY_EVENTS"))
    return ngettext(
        "A meaningful day is a day on which one user did at least %(n)s key event (%(events)s). Logins, email "
        "opens and other events alone are activity, not meaningful activity.",
        "A meaningful day is a day on which one user did at least %(n)s key events (%(events)s). Logins, email "
        "opens and other events alone are activity, not meaningful activity.",
        n,
    ) % {"n": n, "events": events}
