"""Sending (in the worker): claim a queued message, hand it to Django's email backend with a stable Message-ID,
retry refusals, and turn messages a stopped worker left mid-send into `unknown` for a person to decide."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
from email.utils import parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account
from accounts.services.activities import activity_create
from messaging import conf
from messaging.email.outbox import enqueue_send
from messaging.email.render import text_to_html
from messaging.email.tracking import tracked_html, unsubscribe_url
from messaging.models import INTERNAL_SOURCES, EmailMessage, EmailStatus, Suppression

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 3


# --- Sending (worker) ------------------------------------------------------------------------------------------------


def message_id_header(message: EmailMessage) -> str:
    """The message's stable Message-ID: the same on every attempt, so relays and inboxes that de-duplicate on it
    drop a copy a person chose to resend."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "churnapp.invalid"
    return f"<{message.token}@{domain}>"


def _sent_nothing(exc: BaseException) -> bool:
    """Whether a failed hand-over certainly left the message undelivered: the server answered with a refusal."""
    return isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)


def _release_or_fail(message: EmailMessage, exc: BaseException) -> str:
    logger.warning("Email %s not sent: %s", message.pk, exc)
    if message.attempts < MAX_SEND_ATTEMPTS:
        EmailMessage.objects.filter(pk=message.pk, status=EmailStatus.SENDING).update(
            status=EmailStatus.QUEUED, claimed_at=None, status_reason=str(exc)[:255]
        )
        return "retry"
    EmailMessage.objects.filter(pk=message.pk).update(status=EmailStatus.FAILED, status_reason=str(exc)[:255])
    return "failed"


def email_send(*, message_id: int) -> str:
    """Send one queued message through Django's email backend. Returns sent / skipped / suppressed / retry / failed
    / unknown.

    At most once: a worker claims the message (queued → sending, committed) before handing it to the server. Only a
    failure that certainly sent nothing (no connection, or the server refused the message) puts it back in the
    queue; any other failure — and a worker killed while sending, found later by `email_requeue_stale` — leaves it
    `unknown` for a person to resend or mark sent, because the server may have accepted it. Every attempt carries
    the same Message-ID.
    """
    now = timezone.now()
    claimed = EmailMessage.objects.filter(pk=message_id, status=EmailStatus.QUEUED, claimed_at__isnull=True).update(
        status=EmailStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return "skipped"
    message = EmailMessage.objects.select_related("contact").get(pk=message_id)
    if Suppression.suppressed([message.to_email]) or (message.contact is not None and message.contact.unsubscribed):
        EmailMessage.objects.filter(pk=message_id).update(
            status=EmailStatus.SUPPRESSED, status_reason="Unsubscribed before sending."
        )
        return "suppressed"
    customer_mail = message.source not in INTERNAL_SOURCES
    unsubscribe = unsubscribe_url(message.to_email) if customer_mail else ""
    text = message.body_text + (f"\n\n--\nUnsubscribe: {unsubscribe}\n" if unsubscribe else "")
    html = tracked_html(message, message.body_html or text_to_html(message.body_text), unsubscribe)
    headers = {"Message-ID": message_id_header(message)}
    if unsubscribe:
        headers |= {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    connection = get_connection()
    try:
        connection.open()  # nothing is handed over yet: a failure here is safe to retry
    except Exception as exc:  # any backend error: recorded on the message, never silent
        return _release_or_fail(message, exc)
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers=headers,
        connection=connection,
    )
    mail.attach_alternative(html, "text/html")
    try:
        mail.send()
    except Exception as exc:
        if _sent_nothing(exc):
            return _release_or_fail(message, exc)
        logger.error("Email %s: delivery unknown after %s", message_id, exc)
        EmailMessage.objects.filter(pk=message_id).update(
            status=EmailStatus.UNKNOWN, status_reason=f"Delivery unknown ({str(exc)[:180]}): resend or mark sent."
        )
        return "unknown"
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    EmailMessage.objects.filter(pk=message_id).update(status=EmailStatus.SENT, sent_at=timezone.now(), status_reason="")
    if message.account_id and customer_mail:
        activity_create(
            account=Account.objects.get(pk=message.account_id),
            author=None,
            kind="email",
            subject=f"Email sent: {message.subject}",
            body=f"To {message.to_email} (sent by {message.source}).",
        )
    return "sent"


STALE_SEND_REASON = "The worker stopped while sending: the server may have accepted it. Resend or mark sent."


def email_requeue_stale() -> int:
    """Recovery sweep: send the queued messages whose send task was lost (broker outage); a message claimed for
    sending and never finished (killed worker) becomes `unknown` — never resent automatically."""
    now = timezone.now()
    stale_claim = now - dt.timedelta(minutes=conf.get("EMAIL_STALE_CLAIM_MINUTES"))
    never_claimed = now - dt.timedelta(minutes=conf.get("EMAIL_UNCLAIMED_MINUTES"))
    abandoned = EmailMessage.objects.filter(
        Q(status=EmailStatus.SENDING) | Q(status=EmailStatus.QUEUED, claimed_at__isnull=False),
        claimed_at__lt=stale_claim,
    ).update(status=EmailStatus.UNKNOWN, status_reason=STALE_SEND_REASON)
    if abandoned:
        logger.error("%d emails were left mid-send by a stopped worker: marked unknown for a person.", abandoned)
    ids = list(
        EmailMessage.objects.filter(
            status=EmailStatus.QUEUED, claimed_at__isnull=True, created_at__lt=never_claimed
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        enqueue_send(pk)
    return len(ids)


def email_resolve_unknown(*, message: EmailMessage, resend: bool, actor) -> bool:
    """A person's decision on an `unknown` message: resend it (same Message-ID) or record it as sent. Returns
    whether the message was still unknown (a second click changes nothing)."""
    who = getattr(actor, "get_username", lambda: "someone")()
    if resend:
        changed = EmailMessage.objects.filter(pk=message.pk, status=EmailStatus.UNKNOWN).update(
            status=EmailStatus.QUEUED, claimed_at=None, status_reason=f"Resent by {who}."
        )
        if changed:
            enqueue_send(message.pk)
        return bool(changed)
    return bool(
        EmailMessage.objects.filter(pk=message.pk, status=EmailStatus.UNKNOWN).update(
            status=EmailStatus.SENT, sent_at=timezone.now(), status_reason=f"Marked sent by {who}."
        )
    )
