"""The account timeline: notes, calls, emails and meetings a CSM logs, and the audited changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.change_text import change_text
from accounts.models.accounts import Account


class ActivityKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    CHANGE = "change", _("Change")


class Activity(models.Model):
    """An entry of the account timeline: a note, call, email or meeting, or an audited change."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=16, choices=ActivityKind.choices, default=ActivityKind.NOTE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="For changes: field, old and new value.")
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "occurred_at"])]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()

    @property
    def subject_display(self) -> str:
        """The subject in the reader's language: a change is written again from its details."""
        if self.kind == ActivityKind.CHANGE:
            return change_text(self.details or {}, self.subject)
        return self.subject
