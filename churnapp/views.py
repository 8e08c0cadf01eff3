from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from churnapp.heartbeats import health_report


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Each dependency's state for load balancers and people: `status` is ok, degraded (broker, cache, a worker
    or beat away: ingestion still accepts) or down (503: the database is unreachable)."""
    report, healthy = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on their own; the icon is a static SVG."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
