"""Messaging: what churnapp sends to people and systems — email templates, the email outbox with its suppression
list and tracking, in-app notifications, and outgoing webhook subscriptions with their delivery log.

These models moved here from `automations` (email, notifications) and `churnapp` (webhooks); their tables were
renamed by migration 0001 and their indexes kept the names they were created with.
"""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from churnapp import hooks
from churnapp.slugs import free_slug


def _new_token() -> str:
    return secrets.token_urlsafe(24)


# --- Email -----------------------------------------------------------------------------------------------------------


class EmailTemplate(models.Model):
    """A reusable email with `{{ variable }}` placeholders, rendered against a whitelisted plain-dict context."""

    key = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, help_text=_("Optional; built from the text body when empty."))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed")
    UNKNOWN = "unknown", _("Unknown — check and decide")


class EmailSource(models.TextChoices):
    RULE = "rule", _("Rule")
    PLAYBOOK = "playbook", _("Playbook")
    SURVEY = "survey", _("Survey")
    WINBACK = "winback", _("Win-back")
    DUNNING = "dunning", _("Dunning")
    NOTIFICATION = "notification", _("Notification")
    DIGEST = "digest", _("Digest")
    MANUAL = "manual", _("Manual")


# Mail to our own staff: never capped, no unsubscribe link.
INTERNAL_SOURCES = frozenset({EmailSource.NOTIFICATION, EmailSource.DIGEST, EmailSource.MANUAL})


class EmailMessage(models.Model):
    """One email of the outbox: queued, sending, sent, failed, suppressed (never sent, with the reason) or
    unknown (its worker stopped while the SMTP server may have accepted it: a person resends it or marks it sent).

    `dedupe_key` makes queueing idempotent: the same key never yields a second message. `token` identifies the
    message in its open pixel and click links (always signed in URLs) and in its stable `Message-ID` header.
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
    claimed_at = models.DateTimeField(null=True, blank=True, help_text=_("When a worker took it for sending."))
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
            models.Index(fields=["contact", "created_at"], name="automations_contact_1fb968_idx"),
            models.Index(fields=["to_email", "created_at"], name="automations_to_emai_32d688_idx"),
            models.Index(fields=["status", "created_at"], name="automations_status_df6a16_idx"),
            models.Index(fields=["template", "status"], name="automations_templat_64f7ba_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email} ({self.status})"


def address_digest(email: str) -> str:
    """The SHA-256 of an address as the suppression list keys it (trimmed, lower case)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class Suppression(models.Model):
    """An address that never receives automated email again (unsubscribed, bounced, complained).

    The list is keyed by the address's digest: erasing a person's data empties `email` and keeps the digest, so a
    later import of the same address is still never emailed, while the address itself is gone.
    """

    email = models.EmailField(unique=True, null=True, blank=True, help_text=_("Empty once the person is erased."))
    email_hash = models.CharField(max_length=64, unique=True, editable=False)
    reason = models.CharField(max_length=64, default="unsubscribed")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email or self.email_hash[:12]} ({self.reason})"

    def save(self, *args, **kwargs) -> None:
        if self.email:
            self.email = self.email.strip().lower()
            self.email_hash = address_digest(self.email)
        super().save(*args, **kwargs)

    @classmethod
    def suppressed(cls, addresses) -> set[str]:
        """Those of `addresses` on the list (one query, whatever their case)."""
        digests = {address_digest(a): a for a in addresses if a}
        found = cls.objects.filter(email_hash__in=digests).values_list("email_hash", flat=True)
        return {digests[d] for d in found}


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
        indexes = [models.Index(fields=["user", "read_at", "created_at"], name="automations_user_id_942bc9_idx")]

    def __str__(self) -> str:
        return self.title


# --- Outgoing webhooks ----------------------------------------------------------------------------------------------


class WebhookEvent(models.TextChoices):
    """The domain events (`churnapp.hooks`) an endpoint can subscribe to."""

    ACCOUNT_STATUS_CHANGED = hooks.ACCOUNT_STATUS_CHANGED, _("Account status changed")
    ACCOUNT_HEALTH_BAND_CHANGED = hooks.ACCOUNT_HEALTH_BAND_CHANGED, _("Account health band changed")
    TASK_CREATED = hooks.TASK_CREATED, _("Task created")
    CHURN_RECORDED = hooks.CHURN_RECORDED, _("Churn recorded")
    IMPORT_FINISHED = hooks.IMPORT_FINISHED, _("Import finished")
    PING = "ping", _("Ping (test delivery)")


class WebhookEndpoint(models.Model):
    """A URL an admin subscribed to platform events. Deliveries are signed with `secret` (HMAC-SHA256)."""

    key = models.SlugField(max_length=100, unique=True, help_text=_("Stable identifier (configuration bundle, API)."))
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text=_("Event names this endpoint receives."))
    secret = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs) -> None:
        if not self.key:
            text = self.description or urlsplit(self.url).hostname or ""
            self.key = free_slug(WebhookEndpoint.objects.exclude(pk=self.pk), text, fallback="endpoint")
        super().save(*args, **kwargs)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event sent (or being retried) to one endpoint, with the last response code and error."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "created_at"], name="churnapp_we_endpoin_424ca6_idx")]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
