"""The configuration bundle over the API: `/api/v1/config/bundle/` (export), `schema.json`, `plan/`, `apply/`."""

from django.urls import path

from configuration.bundle.api import BundleApplyApi, BundleExportApi, BundlePlanApi, BundleSchemaApi

app_name = "config-bundle-api"

urlpatterns = [
    path("", BundleExportApi.as_view(), name="export"),
    path("schema.json", BundleSchemaApi.as_view(), name="schema"),
    path("plan/", BundlePlanApi.as_view(), name="plan"),
    path("apply/", BundleApplyApi.as_view(), name="apply"),
]
