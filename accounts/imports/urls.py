from django.urls import path

from accounts.imports import views

urlpatterns = [
    path("", views.import_list, name="import-list"),
    path("<int:pk>/", views.import_detail, name="import-detail"),
    path("<int:pk>/errors.csv", views.import_errors_csv, name="import-errors-csv"),
]
