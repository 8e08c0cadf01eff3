"""Keeping the trail: the retention purge (the only code that removes entries) and the erasure's own entry.
A data-subject erasure empties the values of the entries about its subject through `audit.gate` (privacy app)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from audit.capture import Change, record_changes, recording, tracked
from audit.gate import opened
from audit.models import Action, AuditEntry

PURGE_CHUNK = 10_000


def purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete entries older than AUDIT_RETENTION_DAYS (0 keeps them forever), in chunks of short transactions."""
    days = settings.AUDIT_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    removed = 0
    while True:
        ids = list(AuditEntry.objects.filter(occurred_at__lt=cutoff).values_list("pk", flat=True)[:PURGE_CHUNK])
        if not ids:
            return removed
        with opened():
            removed += AuditEntry.objects.filter(pk__in=ids).delete()[0]


def record_erasure(model, *, object_id, account_id: int | None, counts: dict[str, int]) -> None:
    """The erasure's own entry: what kind of object, when, by whom, and how many rows each place had; no value."""
    if tracked(model) is None:
        raise ValueError(f"{model._meta.label} is not audited")
    with recording(True):
        record_changes(model, [Change(object_id, Action.ERASE, {"erased": counts}, account_id)])
