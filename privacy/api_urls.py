"""URLs of the privacy API, included under /api/v1/privacy/ by churnapp/urls.py."""

from django.urls import path

from privacy.api import AccountExportApi, ContactExportApi, ErasureApi

urlpatterns = [
    path("erasures/", ErasureApi.as_view(), name="privacy-erasures"),
    path("exports/contact/<int:pk>/", ContactExportApi.as_view(), name="privacy-export-contact"),
    path("exports/account/<int:pk>/", AccountExportApi.as_view(), name="privacy-export-account"),
]
