from django.urls import path

from accounts import bulk_views, currency_views, views

urlpatterns = [
    path("", views.my_day, name="home"),
    path("my-day/tasks/", views.my_day_tasks, name="my-day-tasks"),
    path("accounts/", views.account_list, name="account-list"),
    path("search/", views.search, name="search"),
    path("settings/exchange-rates/", currency_views.exchange_rate_list, name="exchange-rates"),
    path(
        "settings/exchange-rates/<int:pk>/delete/",
        currency_views.exchange_rate_delete_view,
        name="exchange-rate-delete",
    ),
    path("accounts/bulk/", bulk_views.bulk_edit_create, name="bulk-edit-create"),
    path("accounts/bulk/<int:pk>/", bulk_views.bulk_edit_detail, name="bulk-edit-detail"),
    path("accounts/bulk/<int:pk>/confirm/", bulk_views.bulk_edit_confirm, name="bulk-edit-confirm"),
    path("accounts/bulk/<int:pk>/cancel/", bulk_views.bulk_edit_cancel, name="bulk-edit-cancel"),
    path("accounts/views/", views.saved_view_create, name="saved-view-create"),
    path("accounts/views/<int:pk>/delete/", views.saved_view_delete, name="saved-view-delete"),
    path("accounts/<int:pk>/", views.account_detail, name="account-detail"),
    path("accounts/<int:pk>/section/<slug:section>/", views.account_section, name="account-section"),
    path("accounts/<int:pk>/notes/", views.account_note_create, name="account-note-create"),
    path("accounts/<int:pk>/tasks/", views.account_task_create, name="account-task-create"),
    path("accounts/<int:pk>/status/", views.account_status_change, name="account-status-change"),
    path("accounts/<int:pk>/owner/", views.account_owner_change, name="account-owner-change"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task-complete"),
]
