from __future__ import annotations

from django import template

from automations.conditions.base import matched_label as _matched_label

register = template.Library()


@register.filter
def metric(value, pct: bool = False) -> str:
    """0.912 → '91.2%' (pct) or '3.4'; None → '—'."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if pct else f"{value:.1f}"


@register.filter
def signed_metric(value, pct: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.1f} pp" if pct else f"{value:+.1f}"


@register.filter
def matched_label(label: str) -> str:
    """A matched value's stored label ("Health score") in the reader's language."""
    return _matched_label(label)
