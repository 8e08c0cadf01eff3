"""Composing one email for one contact: render a text (or a stored template, with a built-in default when it was
removed) with the account and contact context, queue it through the outbox, and report what happened.

The door for apps that write to customers one at a time (surveys, win-back, dunning); rules and playbooks, which
send to many at once, use `email_queue_many` directly."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from messaging.email.outbox import email_queue
from messaging.email.render import email_context, email_render_source
from messaging.models import EmailStatus, EmailTemplate

if TYPE_CHECKING:
    from accounts.models import Account, Contact

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TemplateText:
    """The stored template (None when it is missing and the built-in default stands in) and its texts."""

    template: EmailTemplate | None
    subject: str
    body_text: str
    body_html: str = ""


def template_text(key: str, *, default: tuple[str, str]) -> TemplateText:
    """The current text of the template `key`; `default` (subject, body) when it was removed."""
    template = EmailTemplate.objects.filter(key=key).first()
    if template is not None:
        return TemplateText(template, template.subject, template.body_text, template.body_html)
    logger.warning("Email template %r is missing; sending its default text.", key)
    subject, body = default
    return TemplateText(None, subject, body)


@dataclass(frozen=True)
class Sent:
    """What the outbox did with a message: queued (to be sent) or suppressed, with the reason."""

    message_id: int
    status: str
    reason: str = ""

    @property
    def suppressed(self) -> bool:
        return self.status == EmailStatus.SUPPRESSED


def email_send_to_contact(
    *,
    contact: Contact,
    account: Account,
    subject: str,
    body: str,
    source: str,
    dedupe_key: str,
    extra: dict | None = None,
    respect_frequency_cap: bool = True,
    body_html: str = "",
    template: EmailTemplate | None = None,
) -> Sent:
    """Render `subject`/`body` with the account, contact and `extra` context, then queue it for the contact."""
    context = email_context(account=account, contact=contact, extra=extra)
    subject_out, text, html = email_render_source(subject=subject, body_text=body, body_html=body_html, context=context)
    message = email_queue(
        to_email=contact.email,
        subject=subject_out,
        body_text=text,
        body_html=html,
        account=account,
        contact=contact,
        template=template,
        source=source,
        dedupe_key=dedupe_key,
        respect_frequency_cap=respect_frequency_cap,
    )
    return Sent(message_id=message.pk, status=message.status, reason=message.status_reason)


def email_send_template_to_contact(
    *,
    text: TemplateText,
    contact: Contact,
    account: Account,
    source: str,
    dedupe_key: str,
    extra: dict | None = None,
    respect_frequency_cap: bool = True,
    subject_prefix: str = "",
) -> Sent:
    """Queue a template's current text (see `template_text`) for the contact."""
    return email_send_to_contact(
        contact=contact,
        account=account,
        subject=subject_prefix + text.subject,
        body=text.body_text,
        body_html=text.body_html,
        template=text.template,
        source=source,
        dedupe_key=dedupe_key,
        extra=extra,
        respect_frequency_cap=respect_frequency_cap,
    )
