"""Signed links of sent mail (open pixel, click redirect, unsubscribe), counting opens and clicks (scanners
excluded) and the suppression list. The token salts keep their original names: links in mail already sent must
keep working."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.services.contacts import contact_unsubscribe
from messaging import conf
from messaging.models import EmailMessage, EmailStatus, Suppression, address_digest

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

_HREF = re.compile(r"""href=(["'])(https?://[^"']+)\1""", re.IGNORECASE)
# Named when this code lived in the automations app; renaming them would void the links of mail already sent.
UNSUBSCRIBE_SALT = "automations.unsubscribe"
OPEN_SALT = "automations.email.open"
CLICK_SALT = "automations.email.click"


# --- Links and tokens ------------------------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def unsubscribe_token(email: str) -> str:
    return signing.dumps({"e": email.lower()}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_email_from_token(token: str) -> str | None:
    try:
        return signing.loads(token, salt=UNSUBSCRIBE_SALT)["e"]
    except (signing.BadSignature, KeyError, TypeError):
        return None


def unsubscribe_url(email: str) -> str:
    return _absolute(reverse("messaging:email-unsubscribe", args=[unsubscribe_token(email)]))


def open_url(message: EmailMessage) -> str:
    signed = signing.Signer(salt=OPEN_SALT).sign(message.token)
    return _absolute(reverse("messaging:email-open", args=[signed]))


def click_url(message: EmailMessage, url: str) -> str:
    signed = signing.dumps({"t": message.token, "u": url}, salt=CLICK_SALT, compress=True)
    return _absolute(reverse("messaging:email-click", args=[signed]))


def read_open_token(signed: str) -> str | None:
    try:
        return signing.Signer(salt=OPEN_SALT).unsign(signed)
    except signing.BadSignature:
        return None


def read_click_token(signed: str) -> tuple[str, str] | None:
    try:
        data = signing.loads(signed, salt=CLICK_SALT)
        return data["t"], data["u"]
    except (signing.BadSignature, KeyError, TypeError):
        return None


def is_bot(user_agent: str) -> bool:
    """Mail scanners and link-preview fetchers open and click every link; their hits are not the reader's."""
    ua = (user_agent or "").lower()
    return not ua or any(marker in ua for marker in conf.BOT_USER_AGENT_MARKERS)


def tracked_html(message: EmailMessage, html: str, unsubscribe: str) -> str:
    html = _HREF.sub(lambda m: f'href="{escape(click_url(message, m.group(2)))}"', html)
    if unsubscribe:
        html += (
            '<p style="font-size:12px;color:#64748b">You receive this email as a customer of ours. '
            f'<a href="{escape(unsubscribe)}">Unsubscribe</a></p>'
        )
    return html + f'<img src="{escape(open_url(message))}" width="1" height="1" alt="">'


# --- Tracking and unsubscribe ----------------------------------------------------------------------------------------


def email_record_open(*, token: str, user_agent: str) -> bool:
    """Count an open from the pixel unless a scanner fetched it. Returns whether it counted."""
    if is_bot(user_agent):
        return False
    now = timezone.now()
    qs = EmailMessage.objects.filter(token=token)
    qs.filter(opened_at__isnull=True).update(opened_at=now)
    return qs.update(open_count=F("open_count") + 1) == 1


def email_record_click(*, token: str, user_agent: str) -> bool:
    """Count a click (a click implies an open) unless a scanner followed the link. Returns whether it counted."""
    if is_bot(user_agent):
        return False
    now = timezone.now()
    qs = EmailMessage.objects.filter(token=token)
    qs.filter(opened_at__isnull=True).update(opened_at=now)
    qs.filter(clicked_at__isnull=True).update(clicked_at=now)
    return qs.update(click_count=F("click_count") + 1) == 1


@transaction.atomic
def email_unsubscribe(*, email: str, reason: str = "unsubscribed") -> Suppression:
    """Put the address on the suppression list and mark its contacts unsubscribed (idempotent)."""
    email = email.strip().lower()
    suppression, _ = Suppression.objects.get_or_create(
        email_hash=address_digest(email), defaults={"email": email, "reason": reason}
    )
    contact_unsubscribe(email=email)
    EmailMessage.objects.filter(to_email=email, status=EmailStatus.QUEUED, claimed_at__isnull=True).update(
        status=EmailStatus.SUPPRESSED, status_reason="Unsubscribed before sending."
    )
    return suppression
