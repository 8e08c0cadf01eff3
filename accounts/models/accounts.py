"""Customer accounts, their labels and the people who work there: Account, Tag, Contact and their choices."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Segment(models.TextChoices):
    SMB = "smb", _("SMB")
    MID_MARKET = "mid_market", _("Mid-market")
    ENTERPRISE = "enterprise", _("Enterprise")


class LifecycleStage(models.TextChoices):
    TRIAL = "trial", _("Trial")
    ONBOARDING = "onboarding", _("Onboarding")
    ADOPTED = "adopted", _("Adopted")
    RENEWAL = "renewal", _("Renewal")
    ADVOCATE = "advocate", _("Advocate")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")


class AccountStatus(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding")
    ACTIVE = "active", _("Active")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")
    WON_BACK = "won_back", _("Won back")


class HealthBand(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class Tag(models.Model):
    """A label a CSM or a rule puts on accounts ("champion-left", "upsell")."""

    name = models.SlugField(max_length=64, unique=True)
    color = models.CharField(max_length=16, default="slate")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """A customer company.

    The fields below `custom_attributes` are derived state kept here so that lists can filter and
    sort on them: `mrr`, `seats` and `renewal_date` by the accounts snapshot task, health and churn
    probability by the health app (through `accounts.services`).
    """

    external_id = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_accounts"
    )
    segment = models.CharField(max_length=32, choices=Segment.choices, default=Segment.SMB)
    tier = models.CharField(max_length=32, blank=True)
    plan = models.CharField(max_length=64, blank=True)
    lifecycle_stage = models.CharField(max_length=32, choices=LifecycleStage.choices, default=LifecycleStage.ONBOARDING)
    status = models.CharField(max_length=32, choices=AccountStatus.choices, default=AccountStatus.ONBOARDING)
    renewal_date = models.DateField(null=True, blank=True)
    custom_attributes = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="accounts")

    mrr = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    seats = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    health_score = models.PositiveSmallIntegerField(null=True, blank=True)
    health_band = models.CharField(max_length=16, choices=HealthBand.choices, blank=True)
    health_trend = models.SmallIntegerField(null=True, blank=True, help_text="Score now minus score 30 days ago.")
    health_scored_at = models.DateTimeField(null=True, blank=True, help_text="When the cached score was computed.")
    churn_probability = models.FloatField(null=True, blank=True)
    billing_customer_id = models.CharField(
        max_length=128, blank=True, db_index=True, help_text="The account's customer id in billing (Stripe cus_…)."
    )
    payment_failed_at = models.DateTimeField(
        null=True, blank=True, help_text="Last failed payment not yet followed by a paid invoice."
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["status", "renewal_date"]),
            models.Index(fields=["-mrr"]),
            # The moments time-based rule conditions cross ("no login for 10 days", "payment failed in 3 days",
            # never seen since sign-up): one range scan per rule crossing tick (automations.crossings).
            models.Index(fields=["last_seen_at"]),
            models.Index(fields=["payment_failed_at"]),
            models.Index(fields=["created_at"]),
        ]
        permissions = [("assign_owner", "Can reassign accounts to another owner")]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person at a customer account; `user_id` is their id in the product (usage events)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(max_length=128, blank=True)
    user_id = models.CharField(max_length=128, blank=True, db_index=True)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255, blank=True)
    is_primary = models.BooleanField(default=False)
    unsubscribed = models.BooleanField(default=False)
    traits = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "email"], condition=~Q(email=""), name="contact_unique_email_per_account"
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="contact_unique_external_id"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.user_id
