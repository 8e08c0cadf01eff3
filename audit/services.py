"""Keeping the trail: the retention purge, the only code that removes entries."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from audit.gate import opened
from audit.models import AuditEntry

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
