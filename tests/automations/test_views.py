"""Pages of the automations app: who may see and change what, and that each page works end to end."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Task
from automations import rules
from automations.builtins import builtins_install
from automations.models import Enrolment, Journey, MilestoneProgress, Playbook, Rule, RuleExecution
from tests.factories import AccountFactory
from tests.messaging.factories import EmailTemplateFactory

pytestmark = pytest.mark.django_db

RULE_POST = {
    "key": "low-health",
    "name": "Health below 70",
    "description": "",
    "cooldown_days": "7",
    "join": "all",
    "cond_0_type": "health_below",
    "cond_0_params": "value=70",
    "cond_1_type": "segment",
    "cond_1_params": "in=smb,mid_market",
    "act_0_type": "create_task",
    "act_0_params": "title=Call {{ account.name }}; priority=high; due_in_days=3",
    "advanced": "",
}


@pytest.fixture
def low(csm):
    return AccountFactory(name="Lowco", health_score=40, owner=csm, segment="smb")


def test_manager_builds_a_rule_dry_runs_enables_and_runs_it(client, manager, low, csm):
    client.force_login(manager)
    dry = client.post(reverse("automations:rule-dry-run-draft"), RULE_POST, HTTP_HX_REQUEST="true")
    assert dry.status_code == 200 and b"Lowco" in dry.content and b'id="dry-run-total">1<' in dry.content
    response = client.post(reverse("automations:rule-create"), RULE_POST)
    rule = Rule.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("automations:rule-detail", args=[rule.pk])
    assert rule.conditions == {"all": [{"type": "health_below", "value": 70},
                                       {"type": "segment", "in": ["smb", "mid_market"]}]}  # fmt: skip
    assert rule.actions == [{"type": "create_task", "title": "Call {{ account.name }}", "priority": "high",
                             "due_in_days": 3}]  # fmt: skip
    assert not rule.enabled
    client.post(reverse("automations:rule-toggle", args=[rule.pk]), {"enabled": "1"})
    rule.refresh_from_db()
    assert rule.enabled
    # "Run now" shows what it touches first; an unconfirmed POST runs nothing either.
    confirm = client.get(reverse("automations:rule-run-now", args=[rule.pk])).content.decode()
    assert 'id="run-now-matching">1<' in confirm and 'id="run-now-fire">1<' in confirm
    client.post(reverse("automations:rule-run-now", args=[rule.pk]))
    assert not Task.objects.exists()
    client.post(reverse("automations:rule-run-now", args=[rule.pk]), {"confirmed": "1"})
    task = Task.objects.get()
    assert (task.title, task.assignee, task.source) == ("Call Lowco", csm, "rule")
    page = client.get(reverse("automations:rule-detail", args=[rule.pk]))
    assert b"Health score: <strong>40</strong>" in page.content and b"Task #" in page.content


def test_editor_round_trips_an_existing_rule(client, manager):
    rule = rules.rule_save(key="k", name="N", conditions_tree={"any": [{"type": "health_below", "value": 50}]},
                           actions_list=[{"type": "notify", "to": "owner"}])  # fmt: skip
    client.force_login(manager)
    page = client.get(reverse("automations:rule-edit", args=[rule.pk]))
    assert page.status_code == 200 and b'value="value=50"' in page.content


def test_nested_groups_through_the_advanced_yaml(client, manager):
    client.force_login(manager)
    advanced = (
        "conditions: {all: [{type: health_below, value: 70}, {any: [{type: segment, in: [smb]}, "
        "{not: {type: tag, has: [vip]}}]}]}\nactions: [{type: notify, to: owner}]"
    )
    post = {**RULE_POST, "advanced": advanced}
    client.post(reverse("automations:rule-create"), post)
    assert Rule.objects.get().conditions["all"][1]["any"][1] == {"not": {"type": "tag", "has": ["vip"]}}


def test_invalid_rule_shows_errors(client, manager):
    client.force_login(manager)
    response = client.post(reverse("automations:rule-create"), {**RULE_POST, "cond_0_params": "value=abc"})
    assert response.status_code == 200 and b"must be a number" in response.content
    assert not Rule.objects.exists()


def test_csm_and_viewer_see_rules_but_cannot_change_them(client, csm, viewer):
    rule = rules.rule_save(key="k", name="N", conditions_tree={"type": "health_below", "value": 5},
                           actions_list=[{"type": "notify"}])  # fmt: skip
    for user in (csm, viewer):
        client.force_login(user)
        assert client.get(reverse("automations:rule-list")).status_code == 200
        assert client.get(reverse("automations:rule-detail", args=[rule.pk])).status_code == 200
        assert client.get(reverse("automations:rule-create")).status_code == 403
        assert client.post(reverse("automations:rule-toggle", args=[rule.pk]), {"enabled": "1"}).status_code == 403
        assert client.post(reverse("automations:rule-run-now", args=[rule.pk])).status_code == 403
        assert client.get(reverse("automations:rule-run-now", args=[rule.pk])).status_code == 403
        assert client.post(reverse("automations:builtins-install")).status_code == 403
    assert not Rule.objects.get().enabled


def test_pages_need_login(client):
    for name in ("automations:rule-list", "automations:playbook-list", "automations:journey-list",
                 "messaging:email-list"):  # fmt: skip
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_yaml_export_and_import(client, manager):
    client.force_login(manager)
    rules.rule_save(key="k", name="N", conditions_tree={"type": "health_below", "value": 5},
                    actions_list=[{"type": "notify"}])  # fmt: skip
    exported = client.get(reverse("automations:rules-export"))
    assert exported["Content-Type"].startswith("application/yaml") and b"key: k" in exported.content
    Rule.objects.all().delete()
    client.post(reverse("automations:rules-import"), {"text": exported.content.decode()})
    assert Rule.objects.filter(key="k").exists()
    client.post(reverse("automations:rules-import"), {"text": "rules: [{key: x, name: X, conditions: {type: bad}}]"})
    assert not Rule.objects.filter(key="x").exists()


def test_list_pages_render_with_a_bounded_number_of_queries(client, manager, django_assert_max_num_queries):
    builtins_install(enable_rules=True)
    client.force_login(manager)
    for _ in range(5):
        AccountFactory(health_score=10)
    rules.rules_cycle()
    for name in ("automations:rule-list", "automations:playbook-list", "automations:journey-list",
                 "messaging:email-list"):  # fmt: skip
        with django_assert_max_num_queries(15):
            assert client.get(reverse(name)).status_code == 200
    rule = Rule.objects.get(key="health-below-70")
    assert RuleExecution.objects.filter(rule=rule).count() == 5
    with django_assert_max_num_queries(15):
        assert client.get(reverse("automations:rule-detail", args=[rule.pk])).status_code == 200


def test_customer_360_section_enrol_stop_and_milestones(client, csm, own_account, other_account):
    builtins_install()
    client.force_login(csm)
    playbook = Playbook.objects.get(key="cadence-qbr")
    detail = client.get(reverse("account-detail", args=[own_account.pk]))
    assert reverse("automations:account-automations", args=[own_account.pk]).encode() in detail.content
    section = client.get(reverse("automations:account-automations", args=[own_account.pk]), HTTP_HX_REQUEST="true")
    assert b"Not in any playbook" in section.content
    response = client.post(reverse("automations:account-enrol", args=[own_account.pk]), {"playbook": playbook.pk},
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert b"Cadence: quarterly business review" in response.content and b"current" in response.content
    enrolment = Enrolment.objects.get()
    assert enrolment.step == 3  # the first task ran, now waiting 90 days
    client.post(reverse("automations:enrolment-stop", args=[enrolment.pk]), HTTP_HX_REQUEST="true")
    enrolment.refresh_from_db()
    assert enrolment.status == "stopped"
    # someone else's account: read yes, change no
    assert client.get(reverse("automations:account-automations", args=[other_account.pk])).status_code == 200
    assert client.post(reverse("automations:account-enrol", args=[other_account.pk]),
                       {"playbook": playbook.pk}).status_code == 403  # fmt: skip
    journey = Journey.objects.get(key="onboarding")
    milestone = journey.milestones.first()
    progress = MilestoneProgress.objects.create(
        account=own_account, milestone=milestone, started_at=own_account.created_at
    )
    client.post(reverse("automations:milestone-reach", args=[progress.pk]), HTTP_HX_REQUEST="true")
    progress.refresh_from_db()
    assert progress.reached_manually_by == csm


def test_playbook_detail_with_impact_and_holdout_setting(client, manager):
    builtins_install()
    playbook = Playbook.objects.get(key="nps-below-7")
    client.force_login(manager)
    page = client.get(reverse("automations:playbook-detail", args=[playbook.pk]))
    assert page.status_code == 200 and b"Impact: enrolled vs held out" in page.content
    client.post(reverse("automations:playbook-detail", args=[playbook.pk]), {"holdout_percent": "10", "enabled": "on"})
    playbook.refresh_from_db()
    assert playbook.holdout_percent == 10


def test_journey_funnel_page_and_htmx_partial(client, manager):
    builtins_install()
    journey = Journey.objects.get(key="onboarding")
    AccountFactory()
    from automations.journeys import journeys_refresh

    journeys_refresh()
    client.force_login(manager)
    page = client.get(reverse("automations:journey-funnel", args=[journey.pk]))
    assert page.status_code == 200 and b"Time to first value" in page.content
    partial = client.get(reverse("automations:journey-funnel", args=[journey.pk]), {"segment": "smb"},
                         HTTP_HX_REQUEST="true")  # fmt: skip
    assert partial.status_code == 200 and b"<html" not in partial.content and b'id="funnel"' in partial.content


def test_email_template_edit_preview_escapes_and_saves(client, manager):
    AccountFactory(name="<b>Bold</b> Co")
    client.force_login(manager)
    data = {"key": "hello", "name": "Hello", "subject": "Hi {{ account.name }}", "body_text": "Dear {{ account.name }}",
            "body_html": ""}  # fmt: skip
    preview = client.post(reverse("messaging:email-template-create"), {**data, "preview": "1"})
    assert b"&lt;b&gt;Bold" in preview.content and b"<b>Bold</b> Co" not in preview.content
    client.post(reverse("messaging:email-template-create"), data)
    template = EmailTemplateFactory._meta.model.objects.get(key="hello")
    assert template.subject == "Hi {{ account.name }}"
    assert client.get(reverse("messaging:email-list")).status_code == 200


def test_admin_pages_of_the_automations_models(client, admin_user):
    builtins_install()
    client.force_login(admin_user)
    for model in ("journey", "playbook", "rule", "enrolment", "ruleexecution"):
        assert client.get(f"/admin/automations/{model}/").status_code == 200
    for model in ("emailtemplate", "emailmessage", "suppression", "notification", "webhookendpoint", "webhookdelivery"):
        assert client.get(f"/admin/messaging/{model}/").status_code == 200
    playbook = Playbook.objects.first()
    assert client.get(f"/admin/automations/playbook/{playbook.pk}/change/").status_code == 200


def test_the_execution_log_shows_how_fresh_the_health_score_it_read_was(client, manager):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from health.services import health_recompute
    from tests.factories import SubscriptionFactory

    account = AccountFactory(name="Fresh")
    SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        health_recompute()
    rule = rules.rule_save(key="any-health", name="Any health", enabled=True,
                           conditions_tree={"type": "health_below", "value": 101},
                           actions_list=[{"type": "create_task", "title": "Look"}])  # fmt: skip
    with time_machine.travel(start + dt.timedelta(seconds=40), tick=False):
        rules.rule_run_now(rule=rule)
    client.force_login(manager)
    page = client.get(reverse("automations:rule-detail", args=[rule.pk])).content.decode()
    assert "health scored 40 s before" in page
