"""Inbound webhook deliveries (billing, helpdesk and kept REST tickets), recorded for idempotency, audit and
later matching to an account."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models.accounts import Account


class InboundWebhookStatus(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    UNMATCHED = "unmatched", _("Unmatched (account unknown)")
    IGNORED = "ignored", _("Ignored (event type not used)")
    FAILED = "failed", _("Failed")


class InboundWebhookEvent(models.Model):
    """One webhook delivery from billing (Stripe) or a helpdesk, kept for idempotency, audit and later matching."""

    source = models.CharField(max_length=16)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=128)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=InboundWebhookStatus.choices)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    customer_ref = models.CharField(max_length=255, blank=True, db_index=True, help_text="Billing customer id.")
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "event_id"], name="inbound_webhook_unique_event")]

    def __str__(self) -> str:
        return f"{self.source} {self.type} {self.event_id}"
