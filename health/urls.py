from django.urls import path

from health import views

app_name = "health"

urlpatterns = [
    path("accounts/<int:pk>/health/", views.account_health, name="account-health"),
    path("accounts/<int:pk>/sentiment/", views.sentiment_create, name="sentiment-create"),
]
