"""Email templates this app sends, by template key, and their default texts (automations placeholder syntax).

The texts live in the automations app's `EmailTemplate` table (seeded by migration 0003, editable on the email
template pages); the defaults below are only used when a template was deleted or renamed, so mail never stops.
"""

SURVEY_TEMPLATE = {"nps": "winback-survey-nps", "csat": "winback-survey-csat"}
REVIEW_TEMPLATE = "winback-review-ask"
DUNNING_TEMPLATE = "winback-dunning"
CARD_EXPIRY_TEMPLATE = "winback-card-expiry"
CAMPAIGN_TEMPLATE = "winback-campaign"
RELEASE_NOTE_TEMPLATE = "winback-release-note"

REMINDER_PREFIX = "Reminder: "

# key: (name, subject, text body)
DEFAULTS: dict[str, tuple[str, str, str]] = {
    "winback-survey-nps": (
        "Survey: NPS invitation",
        "{{ contact.first_name }}, how likely are you to recommend us?",
        "Hi {{ contact.first_name }},\n\n"
        "On a scale from 0 to 10, how likely are you to recommend us to a friend or colleague?\n"
        "It takes ten seconds: {{ survey.url }}\n\n"
        "The link works once and expires on {{ survey.expires_on }}.\n\n{{ owner.name }}",
    ),
    "winback-survey-csat": (
        "Survey: CSAT invitation",
        "How did we do, {{ contact.first_name }}?",
        "Hi {{ contact.first_name }},\n\n"
        "Your recent support request is resolved. How satisfied were you, from 1 to 5?\n"
        "{{ survey.url }}\n\nThe link works once and expires on {{ survey.expires_on }}.\n\n{{ owner.name }}",
    ),
    "winback-review-ask": (
        "Survey: review ask to promoters",
        "Thank you, {{ contact.first_name }}: would you share that?",
        "Hi {{ contact.first_name }},\n\nThank you for the great score. If you have two minutes, a short review "
        "helps other teams find us: {{ review.url }}\n\n{{ owner.name }}",
    ),
    "winback-dunning": (
        "Dunning: payment failed",
        "Your payment for {{ account.name }} did not go through",
        "Hi {{ contact.first_name }},\n\nWe could not charge the card on file for {{ account.name }} "
        "(reminder {{ dunning.step }} of {{ dunning.steps }}). Please update your card so nothing is interrupted:\n"
        "{{ dunning.card_update_url }}\n\n{{ owner.name }}",
    ),
    "winback-card-expiry": (
        "Dunning: card expiring",
        "The card for {{ account.name }} expires soon",
        "Hi {{ contact.first_name }},\n\nThe card we charge for {{ account.name }} expires on {{ card.expires_on }}. "
        "Update it here to keep your subscription running: {{ card.update_url }}\n\n{{ owner.name }}",
    ),
    "winback-campaign": (
        "Win-back: new campaign (default text)",
        "{{ account.name }}: about why you left",
        "Hi {{ contact.first_name }},\n\nWhen {{ account.name }} left, you told us the reason was {{ churn.reason }}. "
        "Here is what changed since: {{ winback.offer_line }}\n\nYour account and data are still here.\n\n"
        "{{ owner.name }}",
    ),
    "winback-release-note": (
        "Win-back: release note to past churners",
        "{{ winback.what_changed }}: what you were missing is here",
        "Hi {{ contact.first_name }},\n\nWhen {{ account.name }} left, you told us the reason was {{ churn.reason }}. "
        "We listened: {{ winback.what_changed }} is live.\n{{ winback.release_note_url }}\n\n"
        "Your account and data are still here if you want to try it.\n\n{{ owner.name }}",
    ),
}

# What each offer says (Python format fields), given to campaign emails as {{ winback.offer_line }}.
OFFER_LINES = {
    "feature_live": "{what_changed} is live now.",
    "plan_change": "We have a plan that fits a smaller budget: you keep what you used and pay less.",
    "pause": "You can also pause your subscription for up to three months instead of cancelling.",
    "discount": "Come back with {discount_code} for a discount on your first months.",
    "setup_help": "We will set things up with you: a specialist walks your team through it, free.",
}
