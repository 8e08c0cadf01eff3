from __future__ import annotations

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from churnapp.healthz import health_report
from churnapp.login_protection import PASSWORD_RESET_THROTTLED_MESSAGE, password_reset_allowed
from churnapp.preferences import LANGUAGE_CODES, user_language_set
from churnapp.redirects import redirect_next


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


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, with reset e-mails throttled per address and per client address (429 past the limit)."""

    def form_valid(self, form) -> HttpResponse:
        if not password_reset_allowed(request=self.request, email=form.cleaned_data["email"]):
            form.add_error(None, PASSWORD_RESET_THROTTLED_MESSAGE)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password through a reset link also lifts a login lockout of that username."""

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        axes_reset(username=self.user.get_username())
        return response


@login_not_required
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the interface language: stored for a signed-in user (every device), in a cookie for everyone (the
    login page). An empty choice means "follow the browser"."""
    language = request.POST.get("language", "")
    if language and language not in LANGUAGE_CODES:
        return HttpResponseBadRequest("Unknown language.")
    if request.user.is_authenticated:
        user_language_set(request.user, language, request)
    response = redirect_next(request, "home")
    if language:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response
