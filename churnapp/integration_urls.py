from django.urls import path

from churnapp import integrations
from messaging import views as messaging_views

urlpatterns = [
    path("", integrations.overview, name="integrations"),
    path("api-keys/", integrations.api_keys, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", integrations.api_key_revoke_view, name="api-key-revoke"),
    path("webhooks/", messaging_views.webhook_endpoints, name="webhook-endpoints"),
    path("webhooks/<int:pk>/", messaging_views.webhook_endpoint_detail, name="webhook-endpoint-detail"),
]
