"""How an audited change reads on the account's timeline, in the reader's language.

A change entry keeps what changed in `details` (field, old, new) and a sentence in `subject` for the API and exports,
written in the installation's language when it was recorded. The timeline writes the sentence again from the details
in the language of whoever reads it; entries whose details it does not know keep their stored sentence.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

FIELD_LABELS = {
    "status": gettext_lazy("Status"),
    "lifecycle_stage": gettext_lazy("Lifecycle stage"),
    "owner": gettext_lazy("Owner"),
    "subscriptions": gettext_lazy("Subscriptions"),
}
# Fields whose values are choice labels in the catalogues ("At risk"): those are translated too.
LABELLED_VALUES = {"status", "lifecycle_stage", "subscriptions"}
SUBSCRIPTION_STATES = {
    "active": pgettext_lazy("subscriptions of an account", "active"),
    "paused": pgettext_lazy("subscriptions of an account", "paused"),
}
PAUSED_UNTIL = re.compile(r"^paused until (\d{4}-\d{2}-\d{2})$")
ATTRIBUTE = "attribute "


def _value(field: str, value: str) -> str:
    if not value:
        return "—"
    if field not in LABELLED_VALUES:
        return value
    if paused := PAUSED_UNTIL.match(value):
        return _("paused until %(day)s") % {"day": date_format(dt.date.fromisoformat(paused[1]), "DATE_FORMAT")}
    if field == "subscriptions":
        return str(SUBSCRIPTION_STATES.get(value, value))
    return _(value)


def change_text(details: dict, stored: str) -> str:
    """The sentence of a change entry in the active language; `stored` when the details do not say enough."""
    field, old, new = details.get("field"), details.get("old"), details.get("new")
    if not isinstance(field, str) or not isinstance(old, str) or not isinstance(new, str):
        return stored
    if field == "tags" and bool(old) != bool(new):
        return (_("Tag “%(name)s” added") if new else _("Tag “%(name)s” removed")) % {"name": new or old}
    if field == "playbook" and isinstance(details.get("holdout"), bool) and new:
        held = _("Held out of playbook “%(name)s”") if details["holdout"] else _("Enrolled in playbook “%(name)s”")
        return held % {"name": new}
    if field.startswith(ATTRIBUTE):
        label = _("Attribute “%(name)s”") % {"name": field.removeprefix(ATTRIBUTE)}
    elif field in FIELD_LABELS:
        label = str(FIELD_LABELS[field])
    else:
        return stored
    return _("%(field)s changed from %(old)s to %(new)s") % {
        "field": label,
        "old": _value(field, old),
        "new": _value(field, new),
    }
