"""Reads of the audit trail."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from audit.models import AuditEntry

EXPORT_COLUMNS = (
    "id",
    "occurred_at",
    "door",
    "actor_kind",
    "actor_id",
    "actor_label",
    "user_id",
    "object_type",
    "object_id",
    "object_label",
    "action",
    "changes",
    "account_id",
    "batch",
)


def entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.all()


def export_rows(queryset: QuerySet[AuditEntry]) -> Iterator[dict]:
    """Every entry of `queryset` as a plain dict, streamed from the database in chunks."""
    for row in queryset.values(*EXPORT_COLUMNS).iterator(chunk_size=2000):
        yield {**row, "occurred_at": row["occurred_at"].isoformat()}
