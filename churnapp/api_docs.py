"""The OpenAPI schema and its documentation pages, for signed-in users and API keys only.

The schema describes every endpoint, filter and error of the API: useful to an attacker mapping the surface,
so it is served like the API itself (session or API key with the `read` scope). A browser without a session
is sent to the login page instead of getting a bare 401.

Content-Security-Policy: Swagger UI is served split (its start-up script is a separate request), so it needs no
inline script; both UIs style themselves with inline styles, and Redoc parses the schema in a blob: web worker.
Only these two pages get those allowances, on top of the site-wide policy.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.settings import api_settings

DOCS_CSP = {"style-src": [UNSAFE_INLINE]}


class ApiSchemaView(SpectacularAPIView):
    permission_classes = api_settings.DEFAULT_PERMISSION_CLASSES


class _LoginRedirectMixin:
    """HTML pages: an anonymous visitor is redirected to the login page (and back here after it)."""

    permission_classes = api_settings.DEFAULT_PERMISSION_CLASSES

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


@method_decorator(csp_update(DOCS_CSP), name="dispatch")
class ApiDocsView(_LoginRedirectMixin, SpectacularSwaggerSplitView):
    pass


class ApiRedocView(_LoginRedirectMixin, SpectacularRedocView):
    """The Redoc address, kept for old links: it sends the same visitors to the Swagger docs. Redoc's bundle loads
    its logo from a CDN, which the Content-Security-Policy (and the rule of no CDN at run time) refuses."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        return redirect("api-docs")
