"""Email templates this app sends, by template key, and the texts customers read in them.

The templates live in the messaging app's `EmailTemplate` table (seeded by migrations 0003 and 0007 in the
installation's language, editable on the email template pages); `default_text` is only used when a template was
deleted or renamed, so mail never stops. Customers read the installation's language (`settings.LANGUAGE_CODE`),
whatever language the person or request that triggers the mail uses.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from winback.seeds import EMAIL_TEMPLATES

SURVEY_TEMPLATE = {"nps": "winback-survey-nps", "csat": "winback-survey-csat"}
REVIEW_TEMPLATE = "winback-review-ask"
DUNNING_TEMPLATE = "winback-dunning"
CARD_EXPIRY_TEMPLATE = "winback-card-expiry"
CAMPAIGN_TEMPLATE = "winback-campaign"
RELEASE_NOTE_TEMPLATE = "winback-release-note"

# key: (name, subject, text body), in English: the seeds.
DEFAULTS: dict[str, tuple[str, str, str]] = EMAIL_TEMPLATES

_REMINDER_PREFIX = gettext_noop("Reminder: ")

# What each offer says (Python format fields), given to campaign emails as {{ winback.offer_line }}.
_OFFER_LINES = {
    "feature_live": gettext_noop("{what_changed} is live now."),
    "plan_change": gettext_noop("We have a plan that fits a smaller budget: you keep what you used and pay less."),
    "pause": gettext_noop("You can also pause your subscription for up to three months instead of cancelling."),
    "discount": gettext_noop("Come back with {discount_code} for a discount on your first months."),
    "setup_help": gettext_noop("We will set things up with you: a specialist walks your team through it, free."),
}

_NO_REASON = gettext_noop("your reasons")
_REASON_LEAD = gettext_noop("You told us you left because of {{ churn.reason }}.")


def customer_language() -> translation.override:
    """The language of what customers read: the installation's, never the request's."""
    return translation.override(settings.LANGUAGE_CODE)


def default_text(key: str) -> tuple[str, str]:
    """Subject and text body of one of our templates as seeded, in the installation's language."""
    _, subject, body = DEFAULTS[key]
    with customer_language():
        return gettext(subject), gettext(body)


def reminder_prefix() -> str:
    with customer_language():
        return gettext(_REMINDER_PREFIX)


def offer_line(offer: str, *, what_changed: str, discount_code: str) -> str:
    with customer_language():
        return gettext(_OFFER_LINES[offer]).format(what_changed=what_changed, discount_code=discount_code)


def no_reason() -> str:
    with customer_language():
        return gettext(_NO_REASON)


def reason_lead() -> str:
    with customer_language():
        return gettext(_REASON_LEAD)
