"""Default texts of the emails this app sends, in the automations placeholder syntax (`{{ contact.first_name }}`)."""

SURVEY_SUBJECT = {
    "nps": "{{ contact.first_name }}, how likely are you to recommend us?",
    "csat": "How did we do, {{ contact.first_name }}?",
}
SURVEY_BODY = {
    "nps": (
        "Hi {{ contact.first_name }},\n\n"
        "On a scale from 0 to 10, how likely are you to recommend us to a friend or colleague?\n"
        "It takes ten seconds: {{ survey.url }}\n\n"
        "The link works once and expires on {{ survey.expires_on }}.\n\n{{ owner.name }}"
    ),
    "csat": (
        "Hi {{ contact.first_name }},\n\n"
        "Your recent support request is resolved. How satisfied were you, from 1 to 5?\n"
        "{{ survey.url }}\n\nThe link works once and expires on {{ survey.expires_on }}.\n\n{{ owner.name }}"
    ),
}
REMINDER_PREFIX = "Reminder: "

REVIEW_SUBJECT = "Thank you, {{ contact.first_name }}: would you share that?"
REVIEW_BODY = (
    "Hi {{ contact.first_name }},\n\nThank you for the great score. If you have two minutes, a short review helps "
    "other teams find us: {{ review.url }}\n\n{{ owner.name }}"
)

DUNNING_SUBJECT = "Your payment for {{ account.name }} did not go through"
DUNNING_BODY = (
    "Hi {{ contact.first_name }},\n\nWe could not charge the card on file for {{ account.name }} "
    "(reminder {{ dunning.step }} of {{ dunning.steps }}). Please update your card so nothing is interrupted:\n"
    "{{ dunning.card_update_url }}\n\n{{ owner.name }}"
)
CARD_EXPIRY_SUBJECT = "The card for {{ account.name }} expires soon"
CARD_EXPIRY_BODY = (
    "Hi {{ contact.first_name }},\n\nThe card we charge for {{ account.name }} expires on {{ card.expires_on }}. "
    "Update it here to keep your subscription running: {{ card.update_url }}\n\n{{ owner.name }}"
)

# What each offer says (Python format fields), given to campaign emails as {{ winback.offer_line }}.
OFFER_LINES = {
    "feature_live": "{what_changed} is live now.",
    "plan_change": "We have a plan that fits a smaller budget: you keep what you used and pay less.",
    "pause": "You can also pause your subscription for up to three months instead of cancelling.",
    "discount": "Come back with {discount_code} for a discount on your first months.",
    "setup_help": "We will set things up with you: a specialist walks your team through it, free.",
}

CAMPAIGN_SUBJECT = "{{ account.name }}: about why you left"
CAMPAIGN_BODY = (
    "Hi {{ contact.first_name }},\n\nWhen {{ account.name }} left, you told us the reason was {{ churn.reason }}. "
    "Here is what changed since: {{ winback.offer_line }}\n\nYour account and data are still here.\n\n{{ owner.name }}"
)
