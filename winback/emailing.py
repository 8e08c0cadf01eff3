"""The win-back app's one door to email: everything goes through the automations outbox (`email_queue`).

Suppression lists, unsubscribed contacts and the global contact-frequency cap are applied there; this module only
renders texts (`{{ … }}` placeholders, the automations syntax) and reports what happened. Survey, review, dunning
and card-expiry mail comes from the automations email templates named in `winback.texts` (editable on the email
template pages); campaigns and "you told us" messages carry the text their author wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from winback import texts

if TYPE_CHECKING:
    from accounts.models import Account, Contact
    from automations.models import EmailTemplate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TemplateText:
    """The stored template (None when it is missing and the built-in default stands in) and its texts."""

    template: EmailTemplate | None
    subject: str
    body_text: str
    body_html: str = ""


def template_text(key: str) -> TemplateText:
    """The current text of one of our email templates; the default from `winback.texts` if it was removed."""
    from automations.models import EmailTemplate

    template = EmailTemplate.objects.filter(key=key).first()
    if template is not None:
        return TemplateText(template, template.subject, template.body_text, template.body_html)
    logger.warning("Email template %r is missing; sending its default text.", key)
    _, subject, body = texts.DEFAULTS[key]
    return TemplateText(None, subject, body)


@dataclass(frozen=True)
class Sent:
    """What the outbox did with a message: queued (to be sent) or suppressed, with the reason."""

    message_id: int
    status: str
    reason: str = ""

    @property
    def suppressed(self) -> bool:
        return self.status == "suppressed"


def send(
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
    from automations.emails import email_context, email_queue, email_render_source

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


def send_template(
    *,
    template_key: str,
    contact: Contact,
    account: Account,
    source: str,
    dedupe_key: str,
    extra: dict | None = None,
    respect_frequency_cap: bool = True,
    subject_prefix: str = "",
) -> Sent:
    """Render one of our email templates (its current, edited text) and queue it for the contact."""
    text = template_text(template_key)
    return send(
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
