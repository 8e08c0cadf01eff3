from __future__ import annotations

from django import template
from django.http import QueryDict

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_query(context, key: str) -> str:
    """The list query with ordering toggled on `key` (ascending first, then descending)."""
    params: QueryDict = context["request"].GET.copy()
    current = params.get("ordering", "")
    params["ordering"] = f"-{key}" if current == key else key
    params.pop("page", None)
    return params.urlencode()


@register.simple_tag(takes_context=True)
def sort_mark(context, key: str) -> str:
    current = context["request"].GET.get("ordering", "")
    return "▲" if current == key else "▼" if current == f"-{key}" else ""


@register.simple_tag(takes_context=True)
def page_query(context, number: int) -> str:
    params: QueryDict = context["request"].GET.copy()
    params["page"] = number
    return params.urlencode()
