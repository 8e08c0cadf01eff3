"""Error pages: in the app's layout with a way back for people, JSON for machines (under /api/, /v1/, /webhooks/).

Django uses these as handler400/403/404/500 and CSRF_FAILURE_VIEW when DEBUG is off; `FriendlyErrorsMiddleware`
serves the same pages when DEBUG is on (the local `make run`), so a person never meets a framework's debug page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from churnapp.middleware import MACHINE_PATH_PREFIXES

logger = logging.getLogger(__name__)

PAGES = {
    400: (_("Bad request"), _("The request could not be understood. Check the address or the form and try again.")),
    403: (
        _("Not allowed"),
        _("Your role does not allow this page or action. Ask a manager or an admin if you need it."),
    ),
    404: (_("Page not found"), _("There is nothing at this address. It may have been moved or deleted.")),
    500: (
        _("Something went wrong"),
        _("The error has been logged. Try again in a moment, or go back to where you were."),
    ),
}
CSRF_MESSAGE = _("The form expired or was sent from another site. Reload the page and send it again.")

# A last resort when even the layout cannot render (e.g. the database is down).
PLAIN_500 = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong · churnapp</title>'
    '<link rel="stylesheet" href="/static/css/app.css"></head><body class="plain"><main><div class="auth-box card">'
    "<h1>Something went wrong</h1><p>The error has been logged. Try again in a moment.</p>"
    '<p><a class="button" href="/">Back to My day</a></p></div></main></body></html>'
)


def error_page(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    title, default_message = PAGES.get(status, PAGES[500])
    message = message or default_message
    if request.path.startswith(MACHINE_PATH_PREFIXES):
        return JsonResponse({"detail": message}, status=status)
    signed_in = getattr(request, "user", None) is not None and request.user.is_authenticated
    context = {
        "status": status,
        "title": title,
        "message": message,
        "layout": "base.html" if signed_in else "auth_base.html",
        "back": _safe_referer(request),
    }
    return render(request, "errors/error.html", context, status=status)


def _safe_referer(request: HttpRequest) -> str | None:
    referer = request.headers.get("Referer")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return referer
    return None


def _exception_message(exception: Exception | None) -> str | None:
    """A PermissionDenied raised with a sentence for the user keeps it; framework internals do not leak."""
    if isinstance(exception, PermissionDenied) and exception.args and isinstance(exception.args[0], str):
        return exception.args[0]
    return None


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403, _exception_message(exception))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    try:
        return error_page(request, 500)
    except Exception:  # noqa: BLE001 — the error page itself must not fail
        logger.exception("The error page could not render")
        if request.path.startswith(MACHINE_PATH_PREFIXES):
            return JsonResponse({"detail": PAGES[500][1]}, status=500)
        return HttpResponseServerError(PLAIN_500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_page(request, 403, CSRF_MESSAGE)


class FriendlyErrorsMiddleware:
    """With DEBUG on, answer errors with the product's pages instead of Django's debug pages (which list every
    URL pattern and settings). The traceback still goes to the console log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG:
            # An address no URL pattern matches never reaches process_exception (it fails before any view).
            try:
                resolve(request.path_info)
            except Resolver404:
                return not_found(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not settings.DEBUG:
            return None  # Django's handlers (the views above) take over
        if isinstance(exception, Http404):
            return not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        if isinstance(exception, BadRequest | SuspiciousOperation):
            return bad_request(request, exception)
        logger.exception("Internal server error: %s", request.path, exc_info=exception)
        return server_error(request)
