from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    # Public, signed-token endpoints of outgoing email (their paths are in mail already sent: never change them).
    path("e/o/<str:signed>/", views.email_open, name="email-open"),
    path("e/c/<str:signed>/", views.email_click, name="email-click"),
    path("e/unsubscribe/<str:token>/", views.email_unsubscribe, name="email-unsubscribe"),
    # Notification centre.
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/bell/", views.notification_bell, name="notification-bell"),
    path("notifications/read/", views.notification_read, name="notification-read"),
    # Email templates and the outbox.
    path("messaging/emails/", views.email_list, name="email-list"),
    path("messaging/emails/new/", views.email_template_edit, name="email-template-create"),
    path("messaging/emails/<int:pk>/", views.email_template_edit, name="email-template-edit"),
    path("messaging/emails/outbox/<int:pk>/resolve/", views.email_resolve, name="email-resolve"),
]
