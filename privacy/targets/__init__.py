"""Where a subject's personal data lives: for each place, the rows that hold it (a queryset) and how an erasure
scrubs them (one set-based UPDATE or DELETE per target, never a loop over rows).

The erasure, its plan (the counts on the confirmation page) and the export all read these same querysets, so what is
shown, what is exported and what is erased cannot drift apart. Import files on disk are in `privacy.files`.

Two rules keep every KPI identical: facts keep their rows and everything the figures read (event type, time, account
and message id; survey score, kind and time; ticket status and dates; subscriptions untouched), and a product user id
is replaced by a salted hash that is the same for all of that id's events and different between ids, so counts of
distinct users do not move. The salt is random per erasure and never stored: the hash cannot be traced back.
"""

from __future__ import annotations

import secrets

from privacy.subjects import Subject
from privacy.targets._common import DELETE, Target
from privacy.targets.facts import fact_targets
from privacy.targets.outbox import outbox_targets
from privacy.targets.people import people_targets, trail_targets

__all__ = ["DELETE", "Target", "targets_of"]


def targets_of(subject: Subject, *, salt: str | None = None) -> list[Target]:
    """Every place holding the subject's data, in the order an erasure scrubs them (the people themselves last)."""
    salt = salt or secrets.token_hex(16)
    return [
        *fact_targets(subject, salt),
        *outbox_targets(subject),
        *trail_targets(subject),
        *people_targets(subject),
    ]
