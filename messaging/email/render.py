"""Safe rendering of automated mail: `{{ account.name }}` placeholders looked up in plain dicts (no template tags,
no attribute access on objects; every value HTML-escaped in the HTML body), and the whitelisted context of a
message (account, contact, owner, usage)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal
from html import unescape as html_unescape
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from django.utils.html import escape, linebreaks, urlize

from health import selectors as health_selectors
from messaging.models import EmailTemplate

if TYPE_CHECKING:
    from accounts.models import Account, Contact

logger = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")
_PLAIN = (str, int, float, Decimal, dt.date, bool)


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
