"""Win-back settings with working defaults; each can be overridden in Django settings (WINBACK_<NAME>)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _

_DEFAULTS: dict[str, object] = {
    # Value bands of churned accounts by MRR lost: below the first bound "low", below the second "mid", else "high".
    "VALUE_BANDS": (Decimal("100"), Decimal("500")),
    # CSM reminders after a churn (days), scaled by segment: bigger accounts are called back sooner.
    "REMINDER_DAYS": (30, 60, 90),
    "REMINDER_SCALE": {"smb": 1.0, "mid_market": 0.75, "enterprise": 0.5},
    # A reminder whose date passed more than this many days ago is not created any more (backfills).
    "REMINDER_GRACE_DAYS": 7,
    # Reactivations within this many days of a touchpoint are attributed to it (campaigns may set their own).
    "ATTRIBUTION_WINDOW_DAYS": 60,
    # Surveys: at most one survey per contact per this many days; detractor SLA; passive task due.
    "SURVEY_FATIGUE_DAYS": 90,
    "DETRACTOR_SLA_DAYS": 2,
    "PASSIVE_DUE_DAYS": 7,
    # Responses arriving by import or API are routed when they are at most this old (no tasks for history).
    "ROUTE_MAX_AGE_DAYS": 7,
    "PROMOTER_TAG": "advocate",
    # Pause instead of cancel: the longest pause the cancel form and API offer (days).
    "PAUSE_MAX_DAYS": 92,
    # Optional review / referral ask sent to promoters when set.
    "REVIEW_URL": "",
    # Dunning: reminder days after a failed payment, the card-update link, card-expiry notice.
    "DUNNING_STEP_DAYS": (0, 3, 7, 14),
    "CARD_UPDATE_URL": "https://billing.example.com/update-card",
    "CARD_EXPIRY_NOTICE_DAYS": 30,
    # Where payment failures and recoveries are read from: "billing" (BillingEvent rows from Stripe webhooks)
    # and/or "usage" (UsageEvent rows with these event types, as in simulated data).
    "PAYMENT_SOURCES": ("billing", "usage"),
    "PAYMENT_FAILED_EVENTS": ("payment_failed",),
    "PAYMENT_SUCCEEDED_EVENTS": ("payment_succeeded",),
}


def get(name: str):
    return getattr(settings, f"WINBACK_{name}", _DEFAULTS[name])


def value_band(mrr: Decimal | float | None) -> str:
    """low / mid / high by MRR lost."""
    low, mid = get("VALUE_BANDS")
    value = Decimal(str(mrr or 0))
    return "low" if value < low else "mid" if value < mid else "high"


VALUE_BAND_LABELS = {"low": _("Low value"), "mid": _("Mid value"), "high": _("High value")}
