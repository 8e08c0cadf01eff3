"""The configuration page, `/settings/configuration/`: download, upload → plan → confirm (admins)."""

from django.urls import path

from configuration import views

app_name = "configuration"
urlpatterns = [
    path("", views.bundle_page, name="bundle"),
    path("download/", views.bundle_download, name="bundle-download"),
    path("plan/", views.bundle_plan, name="bundle-plan"),
    path("apply/", views.bundle_apply, name="bundle-apply"),
]
