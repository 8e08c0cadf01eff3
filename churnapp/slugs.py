"""Stable slugs for configuration objects that had none: made from a name once, then never changed by renames."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.text import slugify


def free_slug(queryset: QuerySet, text: str, *, fallback: str, field: str = "key", max_length: int = 100) -> str:
    """`text` as a slug not yet taken in `queryset` (`-2`, `-3`… appended when it is); `fallback` when empty."""
    base = (slugify(text) or fallback)[: max_length - 6].strip("-") or fallback
    taken = set(queryset.filter(**{f"{field}__startswith": base}).values_list(field, flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug
