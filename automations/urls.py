from django.urls import path

from automations import backtest_views, views

app_name = "automations"

urlpatterns = [
    # Rules.
    path("", views.rule_list, name="rule-list"),
    path("rules/new/", views.rule_edit, name="rule-create"),
    path("rules/dry-run/", views.rule_dry_run_draft, name="rule-dry-run-draft"),
    path("rules/backtest/", backtest_views.rule_backtest_draft, name="rule-backtest-draft"),
    path("rules/export/", views.rules_export, name="rules-export"),
    path("rules/import/", views.rules_import, name="rules-import"),
    path("builtins/", views.builtins_install_view, name="builtins-install"),
    path("rules/<int:pk>/", views.rule_detail, name="rule-detail"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/dry-run/", views.rule_dry_run, name="rule-dry-run"),
    path("rules/<int:pk>/backtest/", backtest_views.rule_backtest_saved, name="rule-backtest"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule-toggle"),
    path("rules/<int:pk>/run/", views.rule_run_now, name="rule-run-now"),
    # Playbooks and the Customer 360 section.
    path("playbooks/", views.playbook_list, name="playbook-list"),
    path("playbooks/new/", views.playbook_edit, name="playbook-create"),
    path("playbooks/<int:pk>/", views.playbook_detail, name="playbook-detail"),
    path("playbooks/<int:pk>/edit/", views.playbook_edit, name="playbook-edit"),
    path("accounts/<int:pk>/", views.account_automations, name="account-automations"),
    path("accounts/<int:pk>/enrol/", views.account_enrol, name="account-enrol"),
    path("accounts/<int:pk>/team/", views.account_role_assign, name="account-role-assign"),
    path("enrolments/<int:pk>/stop/", views.enrolment_stop, name="enrolment-stop"),
    path("milestones/<int:pk>/reach/", views.milestone_reach, name="milestone-reach"),
    # Journeys.
    path("journeys/", views.journey_list, name="journey-list"),
    path("journeys/new/", views.journey_edit, name="journey-create"),
    path("journeys/<int:pk>/", views.journey_funnel, name="journey-funnel"),
    path("journeys/<int:pk>/edit/", views.journey_edit, name="journey-edit"),
]
