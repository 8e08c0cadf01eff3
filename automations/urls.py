from django.urls import path

from automations import views

app_name = "automations"

urlpatterns = [
    # Rules.
    path("automations/", views.rule_list, name="rule-list"),
    path("automations/rules/new/", views.rule_edit, name="rule-create"),
    path("automations/rules/dry-run/", views.rule_dry_run_draft, name="rule-dry-run-draft"),
    path("automations/rules/export/", views.rules_export, name="rules-export"),
    path("automations/rules/import/", views.rules_import, name="rules-import"),
    path("automations/builtins/", views.builtins_install_view, name="builtins-install"),
    path("automations/rules/<int:pk>/", views.rule_detail, name="rule-detail"),
    path("automations/rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("automations/rules/<int:pk>/dry-run/", views.rule_dry_run, name="rule-dry-run"),
    path("automations/rules/<int:pk>/toggle/", views.rule_toggle, name="rule-toggle"),
    path("automations/rules/<int:pk>/run/", views.rule_run_now, name="rule-run-now"),
    # Playbooks and the Customer 360 section.
    path("automations/playbooks/", views.playbook_list, name="playbook-list"),
    path("automations/playbooks/new/", views.playbook_edit, name="playbook-create"),
    path("automations/playbooks/<int:pk>/", views.playbook_detail, name="playbook-detail"),
    path("automations/playbooks/<int:pk>/edit/", views.playbook_edit, name="playbook-edit"),
    path("automations/accounts/<int:pk>/", views.account_automations, name="account-automations"),
    path("automations/accounts/<int:pk>/enrol/", views.account_enrol, name="account-enrol"),
    path("automations/accounts/<int:pk>/team/", views.account_role_assign, name="account-role-assign"),
    path("automations/enrolments/<int:pk>/stop/", views.enrolment_stop, name="enrolment-stop"),
    path("automations/milestones/<int:pk>/reach/", views.milestone_reach, name="milestone-reach"),
    # Journeys.
    path("automations/journeys/", views.journey_list, name="journey-list"),
    path("automations/journeys/new/", views.journey_edit, name="journey-create"),
    path("automations/journeys/<int:pk>/", views.journey_funnel, name="journey-funnel"),
    path("automations/journeys/<int:pk>/edit/", views.journey_edit, name="journey-edit"),
]
