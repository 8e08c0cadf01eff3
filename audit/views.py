"""The audit trail for admins: browse and filter every recorded change, and export what the filters select."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from audit import selectors
from audit.filters import AuditFilterSet
from churnapp.csvsafe import csv_response
from churnapp.paging import page_of


def may_read_trail(user) -> bool:
    """Admins only: the trail shows every change to every object, secrets excepted."""
    return user.is_authenticated and user.has_perm("churnapp.add_apikey")


def _require_reader(user) -> None:
    if not may_read_trail(user):
        raise PermissionDenied(gettext("Only admins read the audit trail."))


def _json_lines(rows: Iterator[dict]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False)
    yield "\n]\n"


@require_GET
def trail(request: HttpRequest) -> HttpResponse:
    _require_reader(request.user)
    filterset = AuditFilterSet(request.GET, queryset=selectors.entries())
    valid = filterset.is_valid()
    entries = filterset.qs if valid else selectors.entries().none()
    export = request.GET.get("format")
    if export in ("csv", "json") and valid:
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        rows = selectors.export_rows(entries)
        if export == "csv":
            columns = list(selectors.EXPORT_COLUMNS)
            return csv_response(
                filename=f"audit-trail-{stamp}.csv",
                header=columns,
                rows=(
                    [row[c] if c != "changes" else json.dumps(row[c], ensure_ascii=False) for c in columns]
                    for row in rows
                ),
            )
        response = StreamingHttpResponse(_json_lines(rows), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.json"'
        return response
    page = page_of(entries, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(request, "audit/trail.html", {"filterset": filterset, "page": page, "query": query.urlencode()})
