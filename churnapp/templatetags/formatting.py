"""How figures read on every page: money, percentages, deltas, dates and times, attribute keys.

Loaded as a template builtin, so every template formats a figure the same way:
`{{ mrr|money }}` → "$5,750", `{{ -5750.25|money:2 }}` → "−$5,750.25", `{{ 0.231|percent }}` → "23.1 %",
`{{ -10|delta }}` → "▼ 10", `{{ when|when }}` → "Nov 22, 2026 15:45" (local time, never ISO),
`{{ when|ago }}` → "3 days ago", `{{ "ACQUISITION_CHANNEL"|human_label }}` → "Acquisition channel".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from churnapp.money import format_money

register = template.Library()

MINUS = "\u2212"  # a real minus sign, as wide as the plus, never a hyphen
EMPTY = "—"


def _number(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _grouped(number: Decimal, places: int) -> str:
    return f"{abs(number):,.{places}f}"


@register.filter
def money(value, places: int = 0) -> str:
    """An amount in the reporting currency (churnapp.money): "$5,750", "€5,750.25"; negative as "−$5,750.25"."""
    number = _number(value)
    if number is None:
        return EMPTY
    return format_money(number, int(places))


@register.filter
def percent(value, places: int = 1) -> str:
    """A share (0.231) as "23.1 %"; under 1 % but above zero as "<1 %" when places is 0."""
    number = _number(value)
    if number is None:
        return EMPTY
    places = int(places)
    pct = number * 100
    if places == 0 and 0 < pct < 1:
        return "<1 %"
    text = f"{abs(pct):.{places}f}"
    return f"{MINUS}{text} %" if round(pct, places) < 0 else f"{text} %"


@register.filter
def points(value, places: int = 0) -> str:
    """A number already in percent (23.1) as "23.1 %"."""
    number = _number(value)
    return EMPTY if number is None else percent(number / 100, places)


@register.filter
def signed(value, places: int = 0) -> str:
    """A number with its sign: "+12", "−3", "0"."""
    number = _number(value)
    if number is None:
        return EMPTY
    places = int(places)
    text = _grouped(number, places)
    rounded = round(number, places)
    return f"+{text}" if rounded > 0 else f"{MINUS}{text}" if rounded < 0 else text


@register.filter
def delta(value, places: int = 0) -> str:
    """A change as an arrow and its size: "▲ 10", "▼ 10", "± 0"."""
    number = _number(value)
    if number is None:
        return EMPTY
    places = int(places)
    rounded = round(number, places)
    text = _grouped(number, places)
    return f"▲ {text}" if rounded > 0 else f"▼ {text}" if rounded < 0 else f"± {text}"


def _as_datetime(value):
    if isinstance(value, str):
        return parse_datetime(value) or parse_date(value)
    return value


@register.filter
def when(value, empty: str = EMPTY) -> str:
    """A date ("Nov 22, 2026") or a time in the local zone ("Nov 22, 2026 15:45"); never an ISO string."""
    value = _as_datetime(value)
    if not value:
        return empty
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return date_format(value, "DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return date_format(value, "DATE_FORMAT")
    return str(value)


@register.filter
def ago(value, empty: str = EMPTY) -> str:
    """A time relative to now ("3 hours ago", "in 2 days"); dates count in days."""
    value = _as_datetime(value)
    if not value:
        return empty
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        days = (value - timezone.localdate()).days
        if days == 0:
            return "today"
        if days == 1:
            return "tomorrow"
        if days == -1:
            return "yesterday"
        return f"in {days} days" if days > 0 else f"{-days} days ago"
    return naturaltime(value)


@register.filter
def span(earlier, later) -> str:
    """How long before `later` `earlier` was ("12 s", "4 min", "3 h", "2 days"); empty when either is missing."""
    if not earlier or not later:
        return ""
    seconds = max((later - earlier).total_seconds(), 0)
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size * (2 if unit == "days" else 1):
            return f"{seconds // size:.0f} {unit}"
    return f"{seconds:.0f} s"


@register.filter
def human_label(key) -> str:
    """An attribute or field key as a label: "ACQUISITION_CHANNEL" / "acquisition-channel" → "Acquisition channel"."""
    if key is None:
        return EMPTY
    text = str(key).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:].lower() if text else EMPTY


@register.simple_tag(takes_context=True)
def page_link_query(context, number: int) -> str:
    """The current query string with `page` set to `number` (links of templates/htmx/pagination.html)."""
    params = context["request"].GET.copy()
    params["page"] = number
    return params.urlencode()


def human_value(value) -> str:
    """A fact's value as a person reads it: ISO dates and times as `when`, numbers grouped, None as "—"."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return when(value)
    if isinstance(value, str):
        parsed = parse_datetime(value) if "T" in value or " " in value.strip() else None
        if parsed is None and len(value) == 10:
            try:
                parsed = parse_date(value)
            except ValueError:
                parsed = None
        return when(parsed) if parsed else value
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


register.filter("human_value", human_value)


@register.filter(needs_autoescape=True)
def bullets(text, autoescape: bool = True):
    """Plain text whose "- " lines are a list, as HTML: paragraphs for the other lines, a <ul> for the bullets."""
    esc = conditional_escape if autoescape else (lambda s: s)
    out, items = [], []
    for line in str(text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith(("- ", "• ")):
            items.append(f"<li>{esc(stripped[2:])}</li>")
            continue
        if items:
            out.append(f"<ul>{''.join(items)}</ul>")
            items = []
        if stripped:
            out.append(f"<p>{esc(stripped)}</p>")
    if items:
        out.append(f"<ul>{''.join(items)}</ul>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


@register.filter
def month_label(value) -> str:
    """A month ("2025-12", or a date) as "Dec 2025"."""
    if isinstance(value, str):
        value = parse_date(f"{value[:7]}-01") if len(value) >= 7 else None
    return date_format(value, "YEAR_MONTH_FORMAT") if isinstance(value, dt.date) else EMPTY
