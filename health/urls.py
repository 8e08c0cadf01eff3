from django.urls import path

from health import views

app_name = "health"

urlpatterns = [
    path("accounts/<int:pk>/health/", views.account_health, name="account-health"),
    path("accounts/<int:pk>/sentiment/", views.sentiment_create, name="sentiment-create"),
    path("profiles/", views.profile_list, name="profile-list"),
    path("profiles/<int:pk>/", views.profile_detail, name="profile-detail"),
    path("profiles/<int:pk>/draft/", views.profile_draft_create, name="profile-draft-create"),
    path("profiles/<int:pk>/preview/", views.profile_preview, name="profile-preview"),
    path("profiles/<int:pk>/backtest/", views.profile_backtest, name="profile-backtest"),
    path("profiles/<int:pk>/save/", views.profile_save, name="profile-save"),
    path("model/", views.model_page, name="model"),
    path("model/train/", views.model_train, name="model-train"),
    path("model/lab/", views.model_lab, name="model-lab"),
    path("priorities/", views.priorities, name="priorities"),
]
