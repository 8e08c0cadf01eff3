from django.urls import path

from churnapp import integrations

urlpatterns = [
    path("", integrations.overview, name="integrations"),
    path("api-keys/", integrations.api_keys, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", integrations.api_key_revoke_view, name="api-key-revoke"),
    path("webhooks/", integrations.webhook_endpoints, name="webhook-endpoints"),
    path("webhooks/<int:pk>/", integrations.webhook_endpoint_detail, name="webhook-endpoint-detail"),
]
