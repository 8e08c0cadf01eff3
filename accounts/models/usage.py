"""Product usage: the append-only UsageEvent rows received from tracking, imports and the API."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models.accounts import Account


class UsageEvent(models.Model):
    """One product-usage event (append-only). `message_id` de-duplicates retries and re-imports.

    The table is written faster than any other, so it carries only the indexes its queries use: every index
    costs each ingested row a B-tree insert (see `benchmark_ingest` and `benchmark_import`)."""

    # No index of its own: (account, occurred_at) below leads with it and serves the foreign key's lookups and
    # cascading deletes as well.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage_events", db_index=False)
    user_id = models.CharField(max_length=128, blank=True)
    event_type = models.CharField(max_length=128)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=128)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # De-duplication on ingest (ON CONFLICT (message_id) DO NOTHING). A constraint rather than
            # `unique=True`, which on PostgreSQL adds a second, varchar_pattern_ops index for LIKE queries no
            # page or task makes. The name is the one `unique=True` gave it, so existing databases keep theirs.
            models.UniqueConstraint(fields=["message_id"], name="accounts_usageevent_message_id_key"),
        ]
        indexes = [
            # An account's events in a time range: Customer 360, rollups, rule conditions, cascading deletes.
            models.Index(fields=["account", "occurred_at"]),
            # One event type in a time range: time-based rule crossings and journey milestones.
            models.Index(fields=["event_type", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} @ {self.occurred_at:%Y-%m-%d %H:%M}"
