"""What an account pays for: Subscription terms with their billing period and status."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models.accounts import Account


class BillingPeriod(models.IntegerChoices):
    MONTHLY = 1, _("Monthly")
    QUARTERLY = 3, _("Quarterly")
    SEMIANNUAL = 6, _("Semiannual")
    ANNUAL = 12, _("Annual")


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", _("Trialing")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    PAUSED = "paused", _("Paused")
    CANCELED = "canceled", _("Canceled")


class Subscription(models.Model):
    """One subscribed product for a term: [start_date, end_date), end_date null while open.

    An account may hold several at once (plan plus add-ons) and consecutive ones for consecutive terms.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="subscriptions")
    external_id = models.CharField(max_length=128, blank=True)
    product = models.CharField(max_length=128)
    mrr = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="In the reporting currency (setting CURRENCY), converted if need be."
    )
    currency = models.CharField(
        max_length=3, blank=True, help_text="The currency it is priced in, when not the reporting one (ISO 4217)."
    )
    original_mrr = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="MRR in `currency`, before conversion."
    )
    exchange_rate = models.DecimalField(
        max_digits=18, decimal_places=8, null=True, blank=True, help_text="The rate `mrr` was converted with."
    )
    quantity = models.PositiveIntegerField(default=1)
    units = models.CharField(max_length=32, blank=True, default="seats")
    billing_period = models.PositiveSmallIntegerField(choices=BillingPeriod.choices, default=BillingPeriod.MONTHLY)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Exclusive; empty while the subscription is open.")
    status = models.CharField(max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE)
    cancellation_reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start_date"]
        indexes = [models.Index(fields=["account", "start_date"]), models.Index(fields=["start_date", "end_date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="subscription_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=models.F("start_date")),
                name="subscription_end_after_start",
            ),
            models.CheckConstraint(condition=Q(mrr__gte=0), name="subscription_mrr_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.start_date}–{self.end_date or 'open'})"

    def is_active_on(self, day: dt.date) -> bool:
        """Active at `day` when it has started and not yet ended (end_date is exclusive)."""
        return self.start_date <= day and (self.end_date is None or self.end_date > day)


class ExchangeRate(models.Model):
    """Units of the reporting currency one unit of `currency` is worth from `valid_from` on (until the next rate).

    Kept by managers and admins on /settings/exchange-rates/ (and in the Django admin). A subscription priced in
    another currency is converted with the rate valid on its start date; without one it is refused, never mixed in
    unconverted.
    """

    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. EUR.")
    valid_from = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=8, help_text="Reporting-currency units per unit.")

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_unique_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} from {self.valid_from}"
