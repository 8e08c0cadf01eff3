"""Reads of the messaging app: email counts for the frequency cap, outbox and template stats, notifications,
webhook endpoints and their deliveries."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet

from messaging.models import (
    EmailMessage,
    EmailSource,
    EmailStatus,
    EmailTemplate,
    Notification,
    WebhookDelivery,
    WebhookEndpoint,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Mail that counts against the global contact-frequency cap: everything automated that went (or will go) out.
CAPPED_STATUSES = (EmailStatus.QUEUED, EmailStatus.SENT)
UNCAPPED_SOURCES = (EmailSource.NOTIFICATION, EmailSource.DIGEST, EmailSource.MANUAL)


def contact_emails_sent_since(
    *, contact_ids: list[int], since: dt.datetime, sources: list[str] | None = None
) -> dict[int, int]:
    """Automated emails queued or sent to each contact since `since` (one query); contacts with none are absent.

    `sources` narrows the count (e.g. ["survey"] for "not surveyed more than once per 90 days").
    """
    qs = EmailMessage.objects.filter(contact_id__in=contact_ids, created_at__gte=since, status__in=CAPPED_STATUSES)
    qs = qs.filter(source__in=sources) if sources else qs.exclude(source__in=UNCAPPED_SOURCES)
    rows = qs.values("contact_id").annotate(n=Count("id")).order_by()
    return {row["contact_id"]: row["n"] for row in rows}


def automated_emails_to_address_since(*, emails: list[str], since: dt.datetime) -> dict[str, int]:
    """Automated emails queued or sent to each address since `since` (for mail without a contact)."""
    rows = (
        EmailMessage.objects.filter(to_email__in=[e.lower() for e in emails], created_at__gte=since)
        .filter(status__in=CAPPED_STATUSES)
        .exclude(source__in=UNCAPPED_SOURCES)
        .values("to_email")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["to_email"]: row["n"] for row in rows}


def email_template_stats() -> QuerySet[EmailTemplate]:
    """Templates with sent / opened / clicked / suppressed counts (rates are computed from them)."""
    return EmailTemplate.objects.annotate(
        n_sent=Count("messages", filter=Q(messages__status=EmailStatus.SENT)),
        n_opened=Count("messages", filter=Q(messages__status=EmailStatus.SENT, messages__opened_at__isnull=False)),
        n_clicked=Count("messages", filter=Q(messages__status=EmailStatus.SENT, messages__clicked_at__isnull=False)),
        n_suppressed=Count("messages", filter=Q(messages__status=EmailStatus.SUPPRESSED)),
        n_failed=Count("messages", filter=Q(messages__status=EmailStatus.FAILED)),
    ).order_by("name")


def email_outbox(*, status: str = "", account_id: int | None = None) -> QuerySet[EmailMessage]:
    qs = EmailMessage.objects.select_related("account", "contact", "template")
    if status:
        qs = qs.filter(status=status)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("-created_at", "-id")


def notifications_for(*, user: AbstractBaseUser, limit: int = 20) -> list[Notification]:
    return list(user_notifications(user=user)[:limit])


def user_notifications(*, user: AbstractBaseUser) -> QuerySet:
    """A user's notifications, newest first (paginate it)."""
    return Notification.objects.filter(user=user).select_related("account").order_by("-created_at", "-id")


def unread_notification_count(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.select_related("created_by").order_by("-created_at", "-id")


def webhook_deliveries(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.order_by("-created_at", "-id")


def webhook_summary() -> dict:
    """Counts for the integrations overview: endpoints, active ones, and the latest delivery."""
    endpoints = WebhookEndpoint.objects.all()
    return {
        "endpoints": endpoints.count(),
        "active_endpoints": endpoints.filter(is_active=True).count(),
        "last_delivery": WebhookDelivery.objects.select_related("endpoint").order_by("-created_at", "-id").first(),
    }
