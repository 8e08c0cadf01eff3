"""Pages of lists that can grow: every such list shows a page of rows and the total, never a silent cut-off."""

from __future__ import annotations

from django.core.paginator import Page, Paginator


def page_of(rows, *, page: int | str | None, per_page: int = 50) -> Page:
    """The requested page of `rows` (a QuerySet or list); an invalid or out-of-range number gives the nearest
    page, never an error."""
    return Paginator(rows, per_page).get_page(page)
