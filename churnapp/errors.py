"""Error pages that answer machines in JSON: a 404 under /api/, /v1/ or /webhooks/ is `{"detail": …}`, not HTML."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found

from churnapp.middleware import MACHINE_PATH_PREFIXES


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(MACHINE_PATH_PREFIXES):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
