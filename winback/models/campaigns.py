"""Win-back campaigns: offers that answer a churn reason, who is enrolled, every touchpoint, and reactivations."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Offer(models.TextChoices):
    FEATURE_LIVE = "feature_live", _("The feature or integration you needed is live")
    PLAN_CHANGE = "plan_change", _("A plan that fits")
    PAUSE = "pause", _("Pause instead of cancel")
    DISCOUNT = "discount", _("Discount code")
    SETUP_HELP = "setup_help", _("Help with setup")


class ReleaseNote(models.Model):
    """A shipped change tagged with the churn reasons it fixes; publishing it enrols past churners with them."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.URLField(blank=True)
    published_on = models.DateField(default=timezone.localdate)
    reasons = models.ManyToManyField("winback.ChurnReason", related_name="release_notes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_on", "-id"]

    def __str__(self) -> str:
        return self.title


class Campaign(models.Model):
    """An offer aimed at churned accounts with given reasons (and value bands); emails name the reason.

    `subject` and `body` may use {account}, {reason}, {what_changed}, {offer}, {discount_code}, {contact}.
    """

    name = models.CharField(max_length=128)
    offer = models.CharField(max_length=16, choices=Offer.choices)
    reasons = models.ManyToManyField("winback.ChurnReason", related_name="campaigns", blank=True)
    value_bands = models.JSONField(default=list, blank=True, help_text="Empty = every band (low, mid, high).")
    discount_code = models.CharField(max_length=64, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    release_note = models.ForeignKey(
        ReleaseNote, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    attribution_window_days = models.PositiveSmallIntegerField(default=60)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class EnrollmentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    CONTACTED = "contacted", _("Contacted")
    SUPPRESSED = "suppressed", _("Suppressed")
    CONVERTED = "converted", _("Converted")


class CampaignEnrollment(models.Model):
    """A churn record taken into a campaign (once per campaign)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="enrollments")
    churn_record = models.ForeignKey("winback.ChurnRecord", on_delete=models.CASCADE, related_name="enrollments")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ENROLLED)
    enrolled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [models.UniqueConstraint(fields=["campaign", "churn_record"], name="campaign_enrollment_unique")]

    def __str__(self) -> str:
        return f"{self.account} in {self.campaign}"


class TouchpointChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    TASK = "task", _("CSM task")


class TouchpointStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    SUPPRESSED = "suppressed", _("Suppressed")
    RESPONDED = "responded", _("Responded")


class Touchpoint(models.Model):
    """One contact with a churned account: a campaign email or a CSM reminder task. Reactivations attribute here."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="winback_touchpoints")
    enrollment = models.ForeignKey(
        CampaignEnrollment, null=True, blank=True, on_delete=models.CASCADE, related_name="touchpoints"
    )
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints")
    contact = models.ForeignKey("accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=16, choices=TouchpointChannel.choices)
    label = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=TouchpointStatus.choices, default=TouchpointStatus.SENT)
    status_reason = models.CharField(max_length=200, blank=True)
    email_message_id = models.BigIntegerField(null=True, blank=True, help_text="automations EmailMessage id.")
    occurred_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.account} ({self.label})"


class CsmReminder(models.Model):
    """The CSM reminder task created N days after a churn (N scaled by account size), once per offset."""

    churn_record = models.ForeignKey("winback.ChurnRecord", on_delete=models.CASCADE, related_name="reminders")
    step = models.PositiveSmallIntegerField(help_text="1, 2, 3 for the 30/60/90-day reminders.")
    due_on = models.DateField()
    task = models.ForeignKey("accounts.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on"]
        constraints = [models.UniqueConstraint(fields=["churn_record", "step"], name="csm_reminder_once_per_step")]

    def __str__(self) -> str:
        return f"Reminder {self.step} for {self.churn_record}"


class WinbackSuppression(models.Model):
    """An account that asked not to be contacted again: no campaign ever reaches it."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="winback_suppression")
    reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Do not contact {self.account}"


class Reactivation(models.Model):
    """A churned account that came back (a new active subscription), attributed to the last touchpoint in the window."""

    churn_record = models.OneToOneField("winback.ChurnRecord", on_delete=models.CASCADE, related_name="reactivation")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey("accounts.Subscription", null=True, on_delete=models.SET_NULL, related_name="+")
    reactivated_on = models.DateField()
    mrr_won_back = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="reactivations"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reactivated_on"]

    def __str__(self) -> str:
        return f"{self.account} back on {self.reactivated_on}"
