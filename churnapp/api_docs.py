"""The OpenAPI schema and its documentation pages, for signed-in users and API keys only.

The schema describes every endpoint, filter and error of the API: useful to an attacker mapping the surface,
so it is served like the API itself (session or API key with the `read` scope). A browser without a session
is sent to the login page instead of getting a bare 401.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import exceptions
from rest_framework.settings import api_settings


class ApiSchemaView(SpectacularAPIView):
    permission_classes = api_settings.DEFAULT_PERMISSION_CLASSES


class _LoginRedirectMixin:
    """HTML pages: an anonymous visitor is redirected to the login page (and back here after it)."""

    permission_classes = api_settings.DEFAULT_PERMISSION_CLASSES

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class ApiDocsView(_LoginRedirectMixin, SpectacularSwaggerView):
    pass


class ApiRedocView(_LoginRedirectMixin, SpectacularRedocView):
    pass
