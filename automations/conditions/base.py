"""The pieces every condition is built from: the evaluation context, the compiled result (annotations shown as
"why did this fire?" and a Q), the error of a misconfigured condition, and the parsing of a leaf's values."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Q,
)
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy

OPEN_TICKET = ("open", "pending")


class ConditionError(ValueError):
    """The condition tree is not valid (unknown type, missing or wrong parameter)."""


@dataclass
class Compiled:
    q: Q = field(default_factory=Q)
    annotations: dict[str, Any] = field(default_factory=dict)
    # (value key in .values(), label) pairs shown as the matched values
    shows: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Context:
    """When the tree is evaluated; `in_playbook` lets the enrolment's own conditions (emails opened, tasks done)
    compile, for the account's active enrolment in playbook `playbook_id`."""

    now: dt.datetime
    counter: int = 0
    in_playbook: bool = False
    playbook_id: int | None = None

    @property
    def today(self) -> dt.date:
        return timezone.localdate(self.now)

    def name(self, suffix: str) -> str:
        self.counter += 1
        return f"c{self.counter}_{suffix}"


def as_number(spec: dict, key: str, *, default: float | None = None) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConditionError(gettext("%(type)s: '%(key)s' must be a number.") % {"type": spec.get("type"), "key": key})
    return value


def as_int(spec: dict, key: str, *, default: int | None = None) -> int:
    return int(as_number(spec, key, default=default))


def as_list(spec: dict, key: str = "in") -> list[str]:
    value = spec.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConditionError(
            gettext("%(type)s: '%(key)s' must be a non-empty list of names.") % {"type": spec.get("type"), "key": key}
        )
    return value


# The labels of the matched values ("why did this fire?") are stored in English, as the keys of each execution's
# `matched` object; they are translated when shown.
MATCHED_LABELS = {
    "Last seen": pgettext_lazy("matched value", "Last seen"),
    "Health score": pgettext_lazy("matched value", "Health score"),
    "Drop": pgettext_lazy("matched value", "Drop"),
    "Churn probability": pgettext_lazy("matched value", "Churn probability"),
    "Oldest open ticket opened": pgettext_lazy("matched value", "Oldest open ticket opened"),
    "Latest NPS": pgettext_lazy("matched value", "Latest NPS"),
    "Latest CSAT": pgettext_lazy("matched value", "Latest CSAT"),
    "Payment failed at": pgettext_lazy("matched value", "Payment failed at"),
    "Missed milestone": pgettext_lazy("matched value", "Missed milestone"),
    "Renewal date": pgettext_lazy("matched value", "Renewal date"),
    "Seat utilisation (active users ÷ seats)": pgettext_lazy(
        "matched value", "Seat utilisation (active users ÷ seats)"
    ),
    "Seats": pgettext_lazy("matched value", "Seats"),
    "Last subscription started": pgettext_lazy("matched value", "Last subscription started"),
    "Purchased on": pgettext_lazy("matched value", "Purchased on"),
    "Segment": pgettext_lazy("matched value", "Segment"),
    "Status": pgettext_lazy("matched value", "Status"),
    "Stage": pgettext_lazy("matched value", "Stage"),
    "Plan": pgettext_lazy("matched value", "Plan"),
    "Owner": pgettext_lazy("matched value", "Owner"),
    "Health band": pgettext_lazy("matched value", "Health band"),
    "MRR": pgettext_lazy("matched value", "MRR"),
}
_MATCHED_PATTERNS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (
        re.compile(r"Health (\d+) days ago"),
        lambda m: gettext("Health %(days)s days ago") % {"days": m[1]},
    ),
    (
        re.compile(r"Tickets in (\d+) days"),
        lambda m: gettext("Tickets in %(days)s days") % {"days": m[1]},
    ),
    (re.compile(r"Last (\S+)"), lambda m: gettext("Last %(event_type)s") % {"event_type": m[1]}),
]


def matched_label(label: str) -> str:
    """A matched value's stored (English) label in the reader's language; an unknown one as it is."""
    if label in MATCHED_LABELS:
        return str(MATCHED_LABELS[label])
    for pattern, translate in _MATCHED_PATTERNS:
        if match := pattern.fullmatch(label):
            return translate(match)
    return label
