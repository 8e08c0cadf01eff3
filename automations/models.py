"""Journeys, trigger rules, playbooks, email templates, the email outbox and in-app notifications."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def _new_token() -> str:
    return secrets.token_urlsafe(24)


# --- Email -----------------------------------------------------------------------------------------------------------


class EmailTemplate(models.Model):
    """A reusable email with `{{ variable }}` placeholders, rendered against a whitelisted plain-dict context."""

    key = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, help_text="Optional; built from the text body when empty.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"


class EmailSource(models.TextChoices):
    RULE = "rule", "Rule"
    PLAYBOOK = "playbook", "Playbook"
    SURVEY = "survey", "Survey"
    WINBACK = "winback", "Win-back"
    DUNNING = "dunning", "Dunning"
    NOTIFICATION = "notification", "Notification"
    DIGEST = "digest", "Digest"
    MANUAL = "manual", "Manual"


class EmailMessage(models.Model):
    """One email of the outbox: queued, sent, failed or suppressed (never sent, with the reason).

    `dedupe_key` makes queueing idempotent: the same key never yields a second message. `token` identifies the
    message in its open pixel and click links (always signed in URLs).
    """

    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="email_messages"
    )
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="email_messages"
    )
    to_email = models.EmailField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    template = models.ForeignKey(
        EmailTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    source = models.CharField(max_length=32, default=EmailSource.MANUAL)
    status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    status_reason = models.CharField(max_length=255, blank=True)
    dedupe_key = models.CharField(max_length=255, blank=True)
    token = models.CharField(max_length=64, unique=True, default=_new_token)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker took it for sending.")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="email_unique_dedupe_key"),
        ]
        indexes = [
            models.Index(fields=["contact", "created_at"]),
            models.Index(fields=["to_email", "created_at"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["template", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email} ({self.status})"


class Suppression(models.Model):
    """An address that never receives automated email again (unsubscribed, bounced, complained)."""

    email = models.EmailField(unique=True)
    reason = models.CharField(max_length=64, default="unsubscribed")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


# --- Notifications ---------------------------------------------------------------------------------------------------


class Notification(models.Model):
    """An entry of a user's in-app notification centre (the bell in the header)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "created_at"])]

    def __str__(self) -> str:
        return self.title
