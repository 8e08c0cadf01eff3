from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from churnapp.api import api_urlpatterns
from churnapp.views import favicon, healthz

urlpatterns = [
    path("", include("accounts.urls")),
    path("health/", include("health.urls")),
    path("", include("automations.urls")),
    path("", include("winback.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("auth/", include("django.contrib.auth.urls")),
    path("healthz/", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("dashboards.urls")),
    path("api/v1/kpis/", include("dashboards.api_urls")),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("settings/integrations/", include("churnapp.integration_urls")),
    path("v1/", include("accounts.api.tracking")),
    path("imports/", include("accounts.imports.urls")),
    path("webhooks/", include("accounts.webhooks")),
]

handler400 = "churnapp.errors.bad_request"
handler403 = "churnapp.errors.permission_denied"
handler404 = "churnapp.errors.not_found"
handler500 = "churnapp.errors.server_error"
