from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from churnapp.api import api_urlpatterns
from churnapp.api_docs import ApiDocsView, ApiRedocView, ApiSchemaView
from churnapp.sso_views import (
    LoginView,
    SSOPasswordResetConfirmView,
    SSOPasswordResetView,
    sso_authenticate,
    sso_callback,
)
from churnapp.views import favicon, healthz, language_set

# Pages that moved to another app's prefix: old bookmarks and links keep working.
MOVED = [
    re_path(
        r"^automations/emails/(?P<rest>.*)$",
        RedirectView.as_view(url="/messaging/emails/%(rest)s", permanent=True, query_string=True),
    ),
]

urlpatterns = MOVED + [
    path("", include("accounts.urls")),
    path("health/", include("health.urls")),
    path("", include("messaging.urls")),
    path("automations/", include("automations.urls")),
    path("", include("winback.urls")),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Single sign-on (OpenID Connect): 404 while it is not configured.
    path("oidc/authenticate/", sso_authenticate, name="oidc_authentication_init"),
    path("oidc/callback/", sso_callback, name="oidc_authentication_callback"),
    path("auth/login/", LoginView.as_view(redirect_authenticated_user=False)),  # Django's, with SSO-only mode
    path("auth/password_reset/", SSOPasswordResetView.as_view(), name="password_reset"),
    path("auth/reset/<uidb64>/<token>/", SSOPasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("auth/", include("django.contrib.auth.urls")),
    path("healthz/", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("dashboards.urls")),
    path("api/v1/kpis/", include("dashboards.api_urls")),
    path("privacy/", include("privacy.urls")),
    path("api/v1/privacy/", include("privacy.api_urls")),
    path("api/v1/config/bundle/", include("configuration.bundle_urls")),
    path("api/v1/config/", include("configuration.api_urls")),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/schema/", ApiSchemaView.as_view(), name="api-schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", ApiRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("settings/integrations/", include("churnapp.integration_urls")),
    path("settings/language/", language_set, name="language-set"),
    path("settings/audit/", include("audit.urls")),
    path("settings/configuration/", include("configuration.urls")),
    path("v1/", include("accounts.api.tracking")),
    path("imports/", include("accounts.imports.urls")),
    path("webhooks/", include("accounts.webhooks")),
]

handler400 = "churnapp.errors.bad_request"
handler403 = "churnapp.errors.permission_denied"
handler404 = "churnapp.errors.not_found"
handler500 = "churnapp.errors.server_error"
