"""Why and how customers left: the reason taxonomy and one churn record per departure."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ChurnType(models.TextChoices):
    VOLUNTARY = "voluntary", _("Voluntary")
    INVOLUNTARY = "involuntary", _("Involuntary")
    DOWNGRADE = "downgrade", _("Downgrade")


class ChurnSource(models.TextChoices):
    SUBSCRIPTIONS = "subscriptions", _("Subscriptions")
    STRIPE = "stripe", "Stripe"
    FORM = "form", _("Cancel form")
    API = "api", "API"


class ChurnReason(models.Model):
    """A node of the configurable, hierarchical churn-reason taxonomy ("product" › "missing_integration").

    `code` is what billing systems, the simulator and campaigns use; `is_involuntary` marks reasons such as a
    failed payment where the customer did not choose to leave.
    """

    code = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=128)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    is_involuntary = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return f"{self.parent.label} › {self.label}" if self.parent_id and self.parent else self.label


class ChurnRecord(models.Model):
    """One departure of an account: how (type), why (reason), to whom (competitor), what it cost (MRR lost).

    At most one record per account and day, so every capture path (subscriptions, Stripe, cancel form, API) is
    idempotent. `won_back_on` is set when the account reactivates (see Reactivation).
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="churn_records")
    churn_type = models.CharField(max_length=16, choices=ChurnType.choices, default=ChurnType.VOLUNTARY)
    reason = models.ForeignKey(ChurnReason, null=True, blank=True, on_delete=models.PROTECT, related_name="records")
    competitor = models.CharField(max_length=128, blank=True)
    comment = models.TextField(blank=True)
    mrr_lost = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    churned_on = models.DateField()
    source = models.CharField(max_length=16, choices=ChurnSource.choices)
    source_ref = models.CharField(max_length=255, blank=True, help_text="Billing event id, for audit.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    won_back_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-churned_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "churned_on"], name="churn_record_one_per_day")]
        indexes = [models.Index(fields=["churned_on"]), models.Index(fields=["account", "churned_on"])]

    def __str__(self) -> str:
        return f"{self.account} churned {self.churned_on} ({self.reason or 'no reason'})"

    @property
    def is_won_back(self) -> bool:
        return self.won_back_on is not None
