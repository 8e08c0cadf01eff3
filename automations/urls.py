from django.urls import path

from automations import views

app_name = "automations"

urlpatterns = [
    # Public, signed-token endpoints of outgoing email.
    path("e/o/<str:signed>/", views.email_open, name="email-open"),
    path("e/c/<str:signed>/", views.email_click, name="email-click"),
    path("e/unsubscribe/<str:token>/", views.email_unsubscribe, name="email-unsubscribe"),
    # Notification centre.
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/bell/", views.notification_bell, name="notification-bell"),
    path("notifications/read/", views.notification_read, name="notification-read"),
]
