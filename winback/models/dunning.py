"""Involuntary churn: dunning sequences after failed payments and reminders before cards expire."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DunningStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("dunning case", "Open")
    RECOVERED = "recovered", _("Recovered")
    EXHAUSTED = "exhausted", _("Exhausted")


class DunningCase(models.Model):
    """A failed payment being chased: reminders go out on a schedule until a payment succeeds (recovered)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="dunning_cases")
    failed_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=DunningStatus.choices, default=DunningStatus.OPEN)
    steps_sent = models.PositiveSmallIntegerField(default=0)
    last_step_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-failed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="open"), name="dunning_one_open_case_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"Dunning {self.account} since {self.failed_at:%Y-%m-%d}"


class DunningStep(models.Model):
    """One reminder of a dunning sequence (with the card-update link)."""

    case = models.ForeignKey(DunningCase, on_delete=models.CASCADE, related_name="steps")
    step = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=32, blank=True)
    email_message_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["case", "step"]
        constraints = [models.UniqueConstraint(fields=["case", "step"], name="dunning_step_once")]

    def __str__(self) -> str:
        return f"Step {self.step} of {self.case}"


class CardExpiryReminder(models.Model):
    """A reminder sent because an account's card expires soon (once per card-expiring billing fact)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    source_key = models.CharField(max_length=255, unique=True)
    sent_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"Card expiry reminder to {self.account}"
