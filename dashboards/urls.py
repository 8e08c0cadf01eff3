from django.urls import path

from dashboards import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("widgets/<slug:widget>/", views.dashboard_widget, name="dashboard-widget"),
    path("widgets/<slug:widget>/csv/", views.dashboard_widget_csv, name="dashboard-widget-csv"),
    path("drilldown/<slug:kpi>/<slug:measure>/", views.drilldown, name="dashboard-drilldown"),
    path("drilldown/<slug:kpi>/<slug:measure>/csv/", views.drilldown_csv, name="dashboard-drilldown-csv"),
    path("goals/", views.goals, name="dashboard-goals"),
    path("goals/<int:pk>/delete/", views.goal_delete, name="dashboard-goal-delete"),
    path("cac/", views.cac, name="dashboard-cac"),
    path("cac/<int:pk>/delete/", views.cac_delete, name="dashboard-cac-delete"),
]
