"""The win-back app's email texts, bound to messaging's one door for mail to a contact.

Everything goes through the messaging outbox (suppression list, unsubscribed contacts, the global contact-frequency
cap). Survey, review, dunning and card-expiry mail comes from the email templates named in `winback.texts`
(editable on the email template pages), with the built-in text as the default when a template was removed;
campaigns and "you told us" messages carry the text their author wrote (`send`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from messaging.email.compose import Sent, TemplateText, email_send_template_to_contact
from messaging.email.compose import email_send_to_contact as send
from messaging.email.compose import template_text as _template_text
from winback import texts

if TYPE_CHECKING:
    from accounts.models import Account, Contact

__all__ = ["Sent", "TemplateText", "send", "send_template", "template_text"]


def template_text(key: str) -> TemplateText:
    """The current text of one of our email templates; the seeded text (`winback.texts`) if it was removed."""
    return _template_text(key, default=texts.default_text(key))


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
    return email_send_template_to_contact(
        text=template_text(template_key),
        contact=contact,
        account=account,
        source=source,
        dedupe_key=dedupe_key,
        extra=extra,
        respect_frequency_cap=respect_frequency_cap,
        subject_prefix=subject_prefix,
    )
