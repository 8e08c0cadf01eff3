"""The outbox: queueing email (idempotent by `dedupe_key`) behind the suppression list, unsubscribed contacts and
the one global contact-frequency cap, so every automated email — rules, playbooks, surveys, win-back, dunning —
obeys them:

    subject, text, html = email_render(template_key="nps-survey", context=email_context(account=a, contact=c))
    email_queue(to_email=c.email, subject=subject, body_text=text, body_html=html, account=a, contact=c,
                source="survey", dedupe_key=f"survey:{c.pk}:2024-06")

Queued messages are sent after commit by `messaging.tasks.send_email` (announced through `hooks.EMAILS_QUEUED`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Contact
from churnapp import hooks
from messaging import conf
from messaging.email.render import email_context, email_render_source
from messaging.models import INTERNAL_SOURCES, EmailMessage, EmailStatus, EmailTemplate, Suppression
from messaging.selectors import automated_emails_to_address_since, contact_emails_sent_since

if TYPE_CHECKING:
    from accounts.models import Account

logger = logging.getLogger(__name__)


# --- Queueing --------------------------------------------------------------------------------------------------------


def _suppression_reason(*, to_email: str, contact: Contact | None, source: str, respect_frequency_cap: bool) -> str:
    if Suppression.suppressed([to_email]):
        return "Address is on the suppression list."
    if contact is not None and contact.unsubscribed:
        return "Contact unsubscribed."
    if not respect_frequency_cap or source in INTERNAL_SOURCES:
        return ""
    days, cap = conf.get("EMAIL_CAP_DAYS"), conf.get("EMAIL_CAP_COUNT")
    since = timezone.now() - dt.timedelta(days=days)
    if contact is not None:
        sent = contact_emails_sent_since(contact_ids=[contact.pk], since=since).get(contact.pk, 0)
    else:
        sent = automated_emails_to_address_since(emails=[to_email], since=since).get(to_email, 0)
    if sent >= cap:
        return f"Frequency cap: {sent} automated email(s) to this contact in the last {days} days."
    return ""


def email_queue(
    *,
    to_email: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    account: Account | None = None,
    contact: Contact | None = None,
    template: EmailTemplate | None = None,
    source: str,
    dedupe_key: str = "",
    respect_frequency_cap: bool = True,
) -> EmailMessage:
    """Record an outgoing email and send it after commit; or record it as suppressed, with the reason.

    Suppressed when the address is on the suppression list, the contact unsubscribed, or the global
    contact-frequency cap would be exceeded. Idempotent on `dedupe_key`: the existing message is returned.
    """
    to_email = to_email.strip().lower()
    if dedupe_key:
        existing = EmailMessage.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    with transaction.atomic():
        if contact is not None:
            # Serialise concurrent queueing to one contact so two workers cannot both pass the cap.
            contact = Contact.objects.select_for_update().get(pk=contact.pk)
        reason = _suppression_reason(
            to_email=to_email, contact=contact, source=source, respect_frequency_cap=respect_frequency_cap
        )
        message = EmailMessage(
            account=account,
            contact=contact,
            to_email=to_email,
            subject=subject[:255],
            body_text=body_text,
            body_html=body_html,
            template=template,
            source=source,
            dedupe_key=dedupe_key,
            status=EmailStatus.SUPPRESSED if reason else EmailStatus.QUEUED,
            status_reason=reason,
        )
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            if not dedupe_key:
                raise
            return EmailMessage.objects.get(dedupe_key=dedupe_key)
    if message.status == EmailStatus.QUEUED:
        enqueue_send(message.pk)
    return message


def email_queue_template(
    *,
    template_key: str,
    to_email: str,
    account: Account | None = None,
    contact: Contact | None = None,
    source: str,
    dedupe_key: str = "",
    extra: dict | None = None,
    respect_frequency_cap: bool = True,
) -> EmailMessage:
    """Render a stored template for the account/contact and queue it."""
    template = EmailTemplate.objects.get(key=template_key)
    subject, text, html = email_render_source(
        subject=template.subject,
        body_text=template.body_text,
        body_html=template.body_html,
        context=email_context(account=account, contact=contact, extra=extra),
    )
    return email_queue(
        to_email=to_email,
        subject=subject,
        body_text=text,
        body_html=html,
        account=account,
        contact=contact,
        template=template,
        source=source,
        dedupe_key=dedupe_key,
        respect_frequency_cap=respect_frequency_cap,
    )


def email_queue_many(*, messages: list[dict], respect_frequency_cap: bool = True) -> list[EmailMessage]:
    """Queue many emails at once under the same rules as `email_queue`, in a few queries.

    Each item has the keyword arguments of `email_queue` (to_email, subject, body_text, body_html, account,
    contact, template, source, dedupe_key). Returns the messages in the same order: an existing message for a
    `dedupe_key` already used, otherwise a new one, queued or suppressed with the reason. The global frequency
    cap counts earlier messages of the same batch too; the contacts' rows are locked so concurrent batches
    cannot both pass it.
    """
    if not messages:
        return []
    items = [{**m, "to_email": m["to_email"].strip().lower()} for m in messages]
    keys = [m["dedupe_key"] for m in items if m.get("dedupe_key")]
    existing = {m.dedupe_key: m for m in EmailMessage.objects.filter(dedupe_key__in=keys)} if keys else {}
    fresh = [m for m in items if not m.get("dedupe_key") or m["dedupe_key"] not in existing]
    created: dict[int, EmailMessage] = {}
    with transaction.atomic():
        contact_ids = sorted({m["contact"].pk for m in fresh if m.get("contact") is not None})
        locked = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=contact_ids).order_by("pk")}
        addresses = {m["to_email"] for m in fresh}
        suppressed = Suppression.suppressed(addresses)
        days, cap = conf.get("EMAIL_CAP_DAYS"), conf.get("EMAIL_CAP_COUNT")
        since = timezone.now() - dt.timedelta(days=days)
        capped = [m for m in fresh if respect_frequency_cap and m["source"] not in INTERNAL_SOURCES]
        by_contact = contact_emails_sent_since(
            contact_ids=[m["contact"].pk for m in capped if m.get("contact") is not None], since=since
        )
        by_address = automated_emails_to_address_since(
            emails=[m["to_email"] for m in capped if m.get("contact") is None], since=since
        )
        rows = []
        for m in fresh:
            contact = locked.get(m["contact"].pk) if m.get("contact") is not None else None
            reason = ""
            if m["to_email"] in suppressed:
                reason = "Address is on the suppression list."
            elif contact is not None and contact.unsubscribed:
                reason = "Contact unsubscribed."
            elif respect_frequency_cap and m["source"] not in INTERNAL_SOURCES:
                counts, who = (by_contact, contact.pk) if contact is not None else (by_address, m["to_email"])
                sent = counts.get(who, 0)
                if sent >= cap:
                    reason = f"Frequency cap: {sent} automated email(s) to this contact in the last {days} days."
                else:
                    counts[who] = sent + 1
            message = EmailMessage(
                account=m.get("account"),
                contact=contact,
                to_email=m["to_email"],
                subject=m["subject"][:255],
                body_text=m["body_text"],
                body_html=m.get("body_html", ""),
                template=m.get("template"),
                source=m["source"],
                dedupe_key=m.get("dedupe_key", ""),
                status=EmailStatus.SUPPRESSED if reason else EmailStatus.QUEUED,
                status_reason=reason,
            )
            rows.append(message)
            created[id(m)] = message
        EmailMessage.objects.bulk_create(rows, batch_size=1000)
    queued = [m.pk for m in rows if m.status == EmailStatus.QUEUED]
    if queued:
        enqueue_send_many(queued)
    return [existing[m["dedupe_key"]] if id(m) not in created else created[id(m)] for m in items]


def enqueue_send_many(message_ids: list[int]) -> None:
    """Announce queued messages: `messaging.tasks` sends them once the transaction commits."""
    hooks.notify(hooks.EMAILS_QUEUED, list(message_ids))


def enqueue_send(message_id: int) -> None:
    enqueue_send_many([message_id])
