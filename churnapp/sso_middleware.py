"""The session of a person signed in through SSO is checked again at the provider (mozilla-django-oidc's
SessionRefresh): once their ID token is older than OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS, their next page is sent through
the provider's authorization endpoint with `prompt=none`. A person deactivated (or signed out) at the provider comes
back with an error and is signed out here; everyone else comes back at once, without seeing anything."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import cached_property
from django.utils.translation import gettext
from mozilla_django_oidc.middleware import SessionRefresh as BaseSessionRefresh

from churnapp.middleware import MACHINE_PATH_PREFIXES
from churnapp.sso import ProviderUnavailable, oidc_setting, provider_unavailable_response, sso_enabled


def _setting(name: str, default=None) -> property:
    return property(lambda self: oidc_setting(name, default))


class SessionRefresh(BaseSessionRefresh):
    """The library's middleware, reading its settings when a refresh happens (never at start-up, so the provider
    need not be reachable then) and doing nothing while SSO is off."""

    OIDC_OP_AUTHORIZATION_ENDPOINT = _setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_RP_CLIENT_ID = _setting("OIDC_RP_CLIENT_ID")
    OIDC_RP_SCOPES = _setting("OIDC_RP_SCOPES", "openid email")
    OIDC_STATE_SIZE = _setting("OIDC_STATE_SIZE", 32)
    OIDC_NONCE_SIZE = _setting("OIDC_NONCE_SIZE", 32)
    OIDC_USE_NONCE = _setting("OIDC_USE_NONCE", True)
    OIDC_AUTHENTICATION_CALLBACK_URL = _setting("OIDC_AUTHENTICATION_CALLBACK_URL", "oidc_authentication_callback")
    OIDC_EXEMPT_URLS = _setting("OIDC_EXEMPT_URLS", [])

    def __init__(self, get_response):
        MiddlewareMixin.__init__(self, get_response)

    get_settings = staticmethod(oidc_setting)

    @cached_property
    def exempt_urls(self):
        return {reverse("oidc_authentication_init"), reverse("oidc_authentication_callback"), reverse("logout")}

    def process_request(self, request):
        if not sso_enabled():
            return None
        try:
            response = super().process_request(request)
        except ProviderUnavailable as exc:
            return provider_unavailable_response(request, exc)
        if response is None or response.status_code != 302:
            return response
        if request.headers.get("HX-Request") == "true":
            # A fragment cannot follow a redirect to the provider: HTMX reloads the page, which refreshes.
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        if request.path.startswith(MACHINE_PATH_PREFIXES):
            detail = gettext("Your sign-in must be checked again: reload a page of churnapp.")
            return JsonResponse({"detail": detail, "refresh_url": response["Location"]}, status=403)
        return response
