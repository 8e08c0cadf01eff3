"""Payment facts about accounts from the billing system: failed or paid invoices and expiring cards."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models.accounts import Account


class BillingEventKind(models.TextChoices):
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    PAYMENT_SUCCEEDED = "payment_succeeded", _("Payment succeeded")
    CARD_EXPIRING = "card_expiring", _("Card expiring")


class BillingEvent(models.Model):
    """A payment fact about an account from the billing system (failed or paid invoice, expiring card)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="billing_events")
    kind = models.CharField(max_length=32, choices=BillingEventKind.choices)
    occurred_at = models.DateTimeField()
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=8, blank=True)
    details = models.JSONField(default=dict, blank=True)
    source_event_id = models.CharField(max_length=255, unique=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.occurred_at:%Y-%m-%d}"
