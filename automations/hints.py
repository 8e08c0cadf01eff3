"""What the playbook and journey editors show beside each row: an example of the parameters a person types, per
kind. The parameters are codes, the same in every language; only the explanations are translated."""

from django.utils.translation import gettext_lazy

STEP_HINTS = {
    "task": "title=…; assignee=owner | role:Manager | user:x; priority=high; due_in_days=2",
    "email": "template=proactive-check-in; to=contact | owner",
    "wait": "days=7",
    "branch": "condition=health_below; value=70; negate=true; reason=Health recovered",
}

# Per kind: (example parameters, a code a person types; what it means, translated).
MILESTONE_HINTS = {
    "event": (
        "event_type=campaign_sent (first one) · event_type=campaign_sent; count=3 · "
        "event_type=list_imported; property=rows; at_least=100",
        "",
    ),
    "attribute": ("name=subscribers; at_least=100", gettext_lazy("(a property of the account)")),
    "active_users": ("at_least=5", gettext_lazy("(active users on one day)")),
    "paid": ("", gettext_lazy("(a paid subscription)")),
    "manual": ("", gettext_lazy("(marked reached by hand on the Customer 360)")),
}
