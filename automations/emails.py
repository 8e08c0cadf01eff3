"""Email: safe template rendering, the outbox (queue → Celery → Django's email backend), tracking and suppression.

Other apps (surveys, win-back, dunning) send through `email_queue`, so the suppression list, unsubscribed
contacts and the one global contact-frequency cap apply to every automated email:

    subject, text, html = email_render(template_key="nps-survey", context=email_context(account=a, contact=c))
    email_queue(to_email=c.email, subject=subject, body_text=text, body_html=html, account=a, contact=c,
                source="survey", dedupe_key=f"survey:{c.pk}:2024-06")

Rendering: `{{ account.name }}` placeholders only, looked up in plain dicts; no template tags, no attribute
access on objects; every value is HTML-escaped in the HTML body. Links: the HTML body's links go through a
signed click redirect, a signed open pixel is appended, and customer mail carries a signed unsubscribe link.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import smtplib
from decimal import Decimal
from email.utils import parseaddr
from html import unescape as html_unescape
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, linebreaks, urlize

from automations import conf
from automations.models import EmailMessage, EmailSource, EmailStatus, EmailTemplate, Suppression
from automations.selectors import automated_emails_to_address_since, contact_emails_sent_since
from health import selectors as health_selectors

if TYPE_CHECKING:
    from accounts.models import Account, Contact

logger = logging.getLogger(__name__)

# Mail to our own staff: never capped, no unsubscribe link.
INTERNAL_SOURCES = frozenset({EmailSource.NOTIFICATION, EmailSource.DIGEST, EmailSource.MANUAL})
MAX_SEND_ATTEMPTS = 3

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")
_HREF = re.compile(r"""href=(["'])(https?://[^"']+)\1""", re.IGNORECASE)
_PLAIN = (str, int, float, Decimal, dt.date, bool)

UNSUBSCRIBE_SALT = "automations.unsubscribe"
OPEN_SALT = "automations.email.open"
CLICK_SALT = "automations.email.click"


class TemplateNotFound(LookupError):
    pass


# --- Rendering -------------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Keep only plain data: dicts of plain values and scalars. Objects (models, querysets, callables) drop out."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and (plain := _plain(item)) is not None:
                out[key] = plain
        return out
    if isinstance(value, _PLAIN):
        return value
    return None


def _lookup(context: dict, path: str) -> str:
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    if isinstance(value, dict) or value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def render_string(source: str, context: dict, *, html: bool = False) -> str:
    """Replace `{{ a.b }}` placeholders from the plain-dict context; values are HTML-escaped when `html`."""
    safe = _plain(context) or {}

    def _sub(match: re.Match) -> str:
        value = _lookup(safe, match.group(1))
        return str(escape(value)) if html else value

    return _PLACEHOLDER.sub(_sub, source)


def template_variables(source: str) -> list[str]:
    """The placeholders a template uses, in order of first use (for the editor's hints and validation)."""
    return list(dict.fromkeys(m.group(1) for m in _PLACEHOLDER.finditer(source)))


def _is_url_placeholder(path: str) -> bool:
    """`survey.url`, `card.update_url`…: values the system puts in the context (settings, signed links), never
    customer data, which only fills names, e-mails and figures."""
    last = path.rsplit(".", 1)[-1]
    return last == "url" or last.endswith("_url")


def text_template_to_html(source: str, context: dict) -> str:
    """The HTML body of a text-only template: URLs written in the template and URL placeholders become links;
    every other value is escaped text, so a URL a customer put in their name (identify) never becomes a tracked
    link on our domain."""
    safe = _plain(context) or {}
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(source):
        parts.append(urlize(source[position : match.start()], autoescape=True))
        value = _lookup(safe, match.group(1))
        if _is_url_placeholder(match.group(1)) and value.startswith(("https://", "http://")):
            parts.append(f'<a href="{escape(value)}">{escape(value)}</a>')
        else:
            parts.append(str(escape(value)))
        position = match.end()
    parts.append(urlize(source[position:], autoescape=True))
    return linebreaks("".join(parts), autoescape=False)


_ANCHOR = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)


def text_to_html(text: str) -> str:
    """An HTML body for a message queued as text only (notifications, digests), whose text may carry customer data
    (account names): escaped, paragraphs and line breaks kept, and only links to this site are linked."""
    site = settings.SITE_URL.rstrip("/") + "/"

    def _own_only(match: re.Match) -> str:
        href = html_unescape(match.group(1))
        return match.group(0) if href.startswith(site) else match.group(2)

    return linebreaks(_ANCHOR.sub(_own_only, urlize(text, autoescape=True)), autoescape=False)


def email_render_source(*, subject: str, body_text: str, body_html: str, context: dict) -> tuple[str, str, str]:
    subject_out = " ".join(render_string(subject, context).split())
    text_out = render_string(body_text, context)
    if body_html.strip():
        html_out = render_string(body_html, context, html=True)
    else:
        html_out = text_template_to_html(body_text, context)
    return subject_out, text_out, html_out


def email_render(*, template_key: str, context: dict) -> tuple[str, str, str]:
    """Render a stored template: (subject, text body, HTML body)."""
    try:
        template = EmailTemplate.objects.get(key=template_key)
    except EmailTemplate.DoesNotExist as exc:
        raise TemplateNotFound(f"No email template {template_key!r}.") from exc
    return email_render_source(
        subject=template.subject, body_text=template.body_text, body_html=template.body_html, context=context
    )


def _person(user) -> dict:
    if user is None:
        return {}
    return {
        "name": user.get_full_name() or user.get_username(),
        "first_name": user.first_name or user.get_username(),
        "email": user.email,
    }


def email_context(
    *,
    account: Account | None = None,
    contact: Contact | None = None,
    extra: dict | None = None,
    features: list[str] | None = None,
) -> dict:
    """The whitelisted context of automated mail: plain values about the account, contact, owner and usage.

    `extra` adds plain values (e.g. {"churn": {"reason": "price"}} from win-back, {"survey": {"url": …}}).
    `features` are the account's adopted features when the caller read them for many accounts at once.
    """
    context: dict[str, Any] = {"site": {"url": settings.SITE_URL}}
    if account is not None:
        last_seen_days = (timezone.now() - account.last_seen_at).days if account.last_seen_at else None
        context["account"] = {
            "name": account.name,
            "plan": account.plan,
            "segment": account.get_segment_display(),
            "status": account.get_status_display(),
            "mrr": account.mrr,
            "seats": account.seats,
            "renewal_date": account.renewal_date,
            "health_score": account.health_score,
            "health_band": account.health_band,
        }
        context["owner"] = _person(account.owner)
        if features is None:
            features = health_selectors.features_adopted(account_ids=[account.pk])[account.pk]
        features = [name.replace("_", " ") for name in features]
        context["usage"] = {
            "last_seen_days": last_seen_days,
            "last_seen_at": account.last_seen_at,
            # Phrases that read well whatever the facts are, so a template never shows an empty gap.
            "quiet_since": f"{account.last_seen_at:%-d %B}" if account.last_seen_at else "the account was opened",
            "features_used": ", ".join(features[:3]) if features else "your workspace",
        }
    if contact is not None:
        name = contact.name or contact.email.split("@")[0]
        context["contact"] = {"name": name, "first_name": name.split()[0] if name else "", "email": contact.email}
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(context.get(key), dict):
            context[key] = {**context[key], **value}
        else:
            context[key] = value
    return _plain(context)


# --- Queueing --------------------------------------------------------------------------------------------------------


def _suppression_reason(*, to_email: str, contact: Contact | None, source: str, respect_frequency_cap: bool) -> str:
    if Suppression.objects.filter(email=to_email).exists():
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
            from accounts.models import Contact as ContactModel

            contact = ContactModel.objects.select_for_update().get(pk=contact.pk)
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
        _enqueue_send(message.pk)
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
    from accounts.models import Contact as ContactModel

    if not messages:
        return []
    items = [{**m, "to_email": m["to_email"].strip().lower()} for m in messages]
    keys = [m["dedupe_key"] for m in items if m.get("dedupe_key")]
    existing = {m.dedupe_key: m for m in EmailMessage.objects.filter(dedupe_key__in=keys)} if keys else {}
    fresh = [m for m in items if not m.get("dedupe_key") or m["dedupe_key"] not in existing]
    created: dict[int, EmailMessage] = {}
    with transaction.atomic():
        contact_ids = sorted({m["contact"].pk for m in fresh if m.get("contact") is not None})
        locked = {c.pk: c for c in ContactModel.objects.select_for_update().filter(pk__in=contact_ids).order_by("pk")}
        addresses = {m["to_email"] for m in fresh}
        suppressed = set(Suppression.objects.filter(email__in=addresses).values_list("email", flat=True))
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
        _enqueue_send_many(queued)
    return [existing[m["dedupe_key"]] if id(m) not in created else created[id(m)] for m in items]


def _enqueue_send_many(message_ids: list[int]) -> None:
    from automations.tasks import send_email

    def _send() -> None:
        for pk in message_ids:
            send_email.apply_async((pk,), queue="email")

    transaction.on_commit(_send)


def _enqueue_send(message_id: int) -> None:
    from automations.tasks import send_email

    transaction.on_commit(lambda: send_email.apply_async((message_id,), queue="email"))


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
    return _absolute(reverse("automations:email-unsubscribe", args=[unsubscribe_token(email)]))


def open_url(message: EmailMessage) -> str:
    signed = signing.Signer(salt=OPEN_SALT).sign(message.token)
    return _absolute(reverse("automations:email-open", args=[signed]))


def click_url(message: EmailMessage, url: str) -> str:
    signed = signing.dumps({"t": message.token, "u": url}, salt=CLICK_SALT, compress=True)
    return _absolute(reverse("automations:email-click", args=[signed]))


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


def _tracked_html(message: EmailMessage, html: str, unsubscribe: str) -> str:
    html = _HREF.sub(lambda m: f'href="{escape(click_url(message, m.group(2)))}"', html)
    if unsubscribe:
        html += (
            '<p style="font-size:12px;color:#64748b">You receive this email as a customer of ours. '
            f'<a href="{escape(unsubscribe)}">Unsubscribe</a></p>'
        )
    return html + f'<img src="{escape(open_url(message))}" width="1" height="1" alt="">'


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
    if Suppression.objects.filter(email=message.to_email).exists() or (
        message.contact is not None and message.contact.unsubscribed
    ):
        EmailMessage.objects.filter(pk=message_id).update(
            status=EmailStatus.SUPPRESSED, status_reason="Unsubscribed before sending."
        )
        return "suppressed"
    customer_mail = message.source not in INTERNAL_SOURCES
    unsubscribe = unsubscribe_url(message.to_email) if customer_mail else ""
    text = message.body_text + (f"\n\n--\nUnsubscribe: {unsubscribe}\n" if unsubscribe else "")
    html = _tracked_html(message, message.body_html or text_to_html(message.body_text), unsubscribe)
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
        from accounts.models import Account
        from accounts.services import activity_create

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
        _enqueue_send(pk)
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
            _enqueue_send(message.pk)
        return bool(changed)
    return bool(
        EmailMessage.objects.filter(pk=message.pk, status=EmailStatus.UNKNOWN).update(
            status=EmailStatus.SENT, sent_at=timezone.now(), status_reason=f"Marked sent by {who}."
        )
    )


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
    from accounts.services import contact_unsubscribe

    email = email.strip().lower()
    suppression, _ = Suppression.objects.get_or_create(email=email, defaults={"reason": reason})
    contact_unsubscribe(email=email)
    EmailMessage.objects.filter(to_email=email, status=EmailStatus.QUEUED, claimed_at__isnull=True).update(
        status=EmailStatus.SUPPRESSED, status_reason="Unsubscribed before sending."
    )
    return suppression


def email_template_save(
    *, key: str, name: str, subject: str, body_text: str, body_html: str = "", template: EmailTemplate | None = None
) -> EmailTemplate:
    """Create or update a template (by key)."""
    template = template or EmailTemplate.objects.filter(key=key).first() or EmailTemplate(key=key)
    template.key, template.name, template.subject = key, name, subject
    template.body_text, template.body_html = body_text, body_html
    template.full_clean()
    template.save()
    return template
