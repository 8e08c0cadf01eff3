"""Query helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Collection

from django.db import connection
from django.db.models import QuerySet

# Up to this many ids are sent as an IN list; past it the whole table costs less to read than the list to send
# and plan. SQLite caps a statement's bound variables (999 in the oldest builds Django supports).
IN_LIST_MAX = {"postgresql": 20_000}
IN_LIST_MAX_DEFAULT = 900


def filter_ids(queryset: QuerySet, ids: Collection[int] | None, field: str = "account_id") -> QuerySet:
    """The queryset narrowed to these ids in SQL when the list is short enough, else unfiltered: the caller keeps
    only its ids from the rows (a dict look-up, a pandas index). None means every row."""
    if ids is None or len(ids) > IN_LIST_MAX.get(connection.vendor, IN_LIST_MAX_DEFAULT):
        return queryset
    return queryset.filter(**{f"{field}__in": list(ids)})
