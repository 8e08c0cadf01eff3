"""The win-back app's one door to email: everything goes through the automations outbox (`email_queue`).

Suppression lists, unsubscribed contacts and the global contact-frequency cap are applied there; this module only
renders our texts (`{{ … }}` placeholders, the automations syntax) and reports what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import Account, Contact


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
) -> Sent:
    """Render `subject`/`body` with the account, contact and `extra` context, then queue it for the contact."""
    from automations.emails import email_context, email_queue, email_render_source

    context = email_context(account=account, contact=contact, extra=extra)
    subject_out, text, html = email_render_source(subject=subject, body_text=body, body_html="", context=context)
    message = email_queue(
        to_email=contact.email,
        subject=subject_out,
        body_text=text,
        body_html=html,
        account=account,
        contact=contact,
        source=source,
        dedupe_key=dedupe_key,
        respect_frequency_cap=respect_frequency_cap,
    )
    return Sent(message_id=message.pk, status=message.status, reason=message.status_reason)
