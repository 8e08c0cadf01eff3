"""Product usage: the append-only UsageEvent rows received from tracking, imports and the API."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models.accounts import Account


class UsageEvent(models.Model):
    """One product-usage event (append-only). `message_id` de-duplicates retries and re-imports."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage_events")
    user_id = models.CharField(max_length=128, blank=True)
    event_type = models.CharField(max_length=128)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=128, unique=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["account", "occurred_at"]),
            models.Index(fields=["event_type", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} @ {self.occurred_at:%Y-%m-%d %H:%M}"
