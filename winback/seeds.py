"""The English texts the winback data migrations seeded (0002: churn-reason labels, keyword-theme names, survey
schedule names; 0003: the customer email templates), marked for translation.

Migration 0007 writes them in the installation's language (`settings.LANGUAGE_CODE`) where they are still exactly
the English seed, so what a manager edited is kept. Codes, template keys and theme keywords are not here: they are
the same in every language (the keywords match words of customers' comments, which are not translated).

No models are imported here: migrations use their historical models (`apps.get_model`).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

# key: (name, subject, text body), as migration 0003 seeded them.
EMAIL_TEMPLATES: dict[str, tuple[str, str, str]] = {
    "winback-survey-nps": (
        gettext_noop("Survey: NPS invitation"),
        gettext_noop("{{ contact.first_name }}, how likely are you to recommend us?"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\n"
            "On a scale from 0 to 10, how likely are you to recommend us to a friend or colleague?\n"
            "It takes ten seconds: {{ survey.url }}\n\n"
            "The link works once and expires on {{ survey.expires_on }}.\n\n{{ owner.name }}"
        ),
    ),
    "winback-survey-csat": (
        gettext_noop("Survey: CSAT invitation"),
        gettext_noop("How did we do, {{ contact.first_name }}?"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\n"
            "Your recent support request is resolved. How satisfied were you, from 1 to 5?\n"
            "{{ survey.url }}\n\nThe link works once and expires on {{ survey.expires_on }}.\n\n{{ owner.name }}"
        ),
    ),
    "winback-review-ask": (
        gettext_noop("Survey: review ask to promoters"),
        gettext_noop("Thank you, {{ contact.first_name }}: would you share that?"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\nThank you for the great score. If you have two minutes, a short review "
            "helps other teams find us: {{ review.url }}\n\n{{ owner.name }}"
        ),
    ),
    "winback-dunning": (
        gettext_noop("Dunning: payment failed"),
        gettext_noop("Your payment for {{ account.name }} did not go through"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\nWe could not charge the card on file for {{ account.name }} "
            "(reminder {{ dunning.step }} of {{ dunning.steps }}). Please update your card so nothing is "
            "interrupted:\n{{ dunning.card_update_url }}\n\n{{ owner.name }}"
        ),
    ),
    "winback-card-expiry": (
        gettext_noop("Dunning: card expiring"),
        gettext_noop("The card for {{ account.name }} expires soon"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\nThe card we charge for {{ account.name }} expires on "
            "{{ card.expires_on }}. Update it here to keep your subscription running: {{ card.update_url }}\n\n"
            "{{ owner.name }}"
        ),
    ),
    "winback-campaign": (
        gettext_noop("Win-back: new campaign (default text)"),
        gettext_noop("{{ account.name }}: about why you left"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\nWhen {{ account.name }} left, you told us the reason was "
            "{{ churn.reason }}. Here is what changed since: {{ winback.offer_line }}\n\n"
            "Your account and data are still here.\n\n{{ owner.name }}"
        ),
    ),
    "winback-release-note": (
        gettext_noop("Win-back: release note to past churners"),
        gettext_noop("{{ winback.what_changed }}: what you were missing is here"),
        gettext_noop(
            "Hi {{ contact.first_name }},\n\nWhen {{ account.name }} left, you told us the reason was "
            "{{ churn.reason }}. We listened: {{ winback.what_changed }} is live.\n{{ winback.release_note_url }}\n\n"
            "Your account and data are still here if you want to try it.\n\n{{ owner.name }}"
        ),
    ),
}

# Churn-reason code: label, as migration 0002 seeded them (the codes are what billing and campaigns use).
REASON_LABELS: dict[str, str] = {
    "price": gettext_noop("Price"),
    "product": gettext_noop("Product"),
    "missing_feature": gettext_noop("Missing feature"),
    "missing_integration": gettext_noop("Missing integration"),
    "product_fit": gettext_noop("Product fit"),
    "competitor": gettext_noop("Competitor"),
    "service": gettext_noop("Service"),
    "support": gettext_noop("Support"),
    "onboarding": gettext_noop("Onboarding"),
    "business_closed": gettext_noop("Business closed"),
    "payment_failure": gettext_noop("Payment failure"),
    "other": gettext_noop("Other"),
}

# Keyword-theme names seeded by migration 0002 (their keywords stay English: they match the comments' words).
THEME_NAMES: list[str] = [
    gettext_noop("Pricing"),
    gettext_noop("Integrations"),
    gettext_noop("Support"),
    gettext_noop("Onboarding"),
    gettext_noop("Features"),
]

# Survey-schedule names seeded by migration 0002.
SCHEDULE_NAMES: list[str] = [
    gettext_noop("NPS 90 days after start"),
    gettext_noop("NPS 60 days before renewal"),
    gettext_noop("CSAT after a resolved ticket"),
]
