"""The configuration API, object by object: create, read, update, delete through the apps' services, errors per
field, 404 and 409, the webhook secret shown once, and every change in the audit trail through the API door."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from automations.models import Journey, Playbook, Rule
from dashboards.models import Goal
from health.models import HealthProfileVersion
from messaging.models import EmailTemplate, WebhookEndpoint
from tests.configuration.conftest_api import key_client
from winback.models import IssueRoute, SurveySchedule

pytestmark = pytest.mark.django_db
BASE = "/api/v1/config"
RULE = {
    "key": "low-health",
    "name": "Low health",
    "conditions": {"all": [{"type": "health_below", "value": 50}]},
    "actions": [{"type": "create_task", "title": "Call them"}],
    "cooldown_days": 14,
}
TEMPLATE = {"key": "check-in", "name": "Check-in", "subject": "Hello {{ account.name }}", "body_text": "How is it?"}


@pytest.fixture
def config_key(db):
    return key_client("config")


def _audited(object_type: str, object_id) -> list[tuple[str, str, str]]:
    rows = AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id))
    return list(rows.order_by("pk").values_list("door", "actor_kind", "action"))


def test_rule_crud_through_rule_save_with_audit(config_key):
    created = config_key.post(f"{BASE}/rules/", RULE, format="json")
    assert created.status_code == 201, created.json()
    rule = Rule.objects.get(key="low-health")
    assert created.json()["cooldown_days"] == 14 and rule.enabled is False
    assert config_key.get(f"{BASE}/rules/low-health/").json()["name"] == "Low health"
    changed = config_key.patch(f"{BASE}/rules/low-health/", {"cooldown_days": 3, "enabled": True}, format="json")
    assert changed.status_code == 200
    rule.refresh_from_db()
    assert (rule.cooldown_days, rule.enabled, rule.conditions) == (3, True, RULE["conditions"])
    assert config_key.delete(f"{BASE}/rules/low-health/").status_code == 204
    assert not Rule.objects.filter(pk=rule.pk).exists()
    assert _audited("automations.rule", rule.pk) == [
        ("api", "api_key", "create"),
        ("api", "api_key", "update"),
        ("api", "api_key", "delete"),
    ]


def test_rule_errors_name_their_field(config_key):
    bad = {**RULE, "conditions": {"all": [{"type": "no_such_condition"}]}, "actions": [{"type": "explode"}]}
    response = config_key.post(f"{BASE}/rules/", bad, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"conditions", "actions"}
    config_key.post(f"{BASE}/rules/", RULE, format="json")
    again = config_key.post(f"{BASE}/rules/", RULE, format="json")
    assert again.status_code == 400 and "key" in again.json()
    assert config_key.get(f"{BASE}/rules/no-such-rule/").status_code == 404


def test_playbook_with_steps_and_a_template_it_sends(config_key):
    assert config_key.post(f"{BASE}/email-templates/", TEMPLATE, format="json").status_code == 201
    body = {
        "key": "rescue",
        "name": "Rescue",
        "holdout_percent": 10,
        "steps": [
            {"kind": "task", "config": {"title": "Call", "due_in_days": 2}},
            {"kind": "wait", "config": {"days": 3}},
            {"kind": "email", "config": {"template": "check-in", "to": "contact"}},
        ],
    }
    created = config_key.post(f"{BASE}/playbooks/", body, format="json")
    assert created.status_code == 201, created.json()
    assert [(s["order"], s["kind"]) for s in created.json()["steps"]] == [(1, "task"), (2, "wait"), (3, "email")]
    # The template is in use: deleting it is refused, saying by whom.
    refused = config_key.delete(f"{BASE}/email-templates/check-in/")
    assert refused.status_code == 409 and "Rescue" in refused.json()["detail"]
    assert EmailTemplate.objects.filter(key="check-in").exists()
    # A step the playbook service refuses: a 400 on `steps`, nothing saved.
    bad = {**body, "steps": [{"kind": "email", "config": {"template": "missing"}}]}
    response = config_key.put(f"{BASE}/playbooks/rescue/", bad, format="json")
    assert response.status_code == 400 and "missing" in response.json()["steps"][0]
    assert Playbook.objects.get(key="rescue").steps.count() == 3
    # PATCH without steps keeps them.
    assert config_key.patch(f"{BASE}/playbooks/rescue/", {"name": "Rescue 2"}, format="json").status_code == 200
    assert Playbook.objects.get(key="rescue").steps.count() == 3
    # A rule that enrols in the playbook keeps it from being deleted.
    enrol = {**RULE, "actions": [{"type": "enrol_playbook", "playbook": "rescue"}]}
    assert config_key.post(f"{BASE}/rules/", enrol, format="json").status_code == 201
    assert config_key.delete(f"{BASE}/playbooks/rescue/").status_code == 409
    config_key.delete(f"{BASE}/rules/low-health/")
    assert config_key.delete(f"{BASE}/playbooks/rescue/").status_code == 204
    assert config_key.delete(f"{BASE}/email-templates/check-in/").status_code == 204
    assert ("api", "api_key", "create") in _audited("automations.playbook", created.json()["id"])


def test_journey_with_milestones(config_key):
    body = {
        "key": "onboarding",
        "name": "Onboarding",
        "onboarding": True,
        "milestones": [
            {"name": "Paid", "condition": {"type": "paid"}, "due_days": 30},
            {"key": "active", "name": "Active", "condition": {"type": "active_users", "at_least": 3}},
        ],
    }
    created = config_key.post(f"{BASE}/journeys/", body, format="json")
    assert created.status_code == 201, created.json()
    assert [m["key"] for m in created.json()["milestones"]] == ["paid", "active"]
    bad = {**body, "milestones": [{"name": "x", "condition": {"type": "teleport"}}]}
    response = config_key.put(f"{BASE}/journeys/onboarding/", bad, format="json")
    assert response.status_code == 400 and "milestones" in response.json()
    assert config_key.delete(f"{BASE}/journeys/onboarding/").status_code == 204
    assert not Journey.objects.filter(key="onboarding").exists()


def test_health_profile_draft_preview_publish(config_key):
    profiles = config_key.get(f"{BASE}/health-profiles/").json()
    assert [p["key"] for p in profiles] == ["default"]
    factors = [{"key": "active_days_30", "weight": 1, "method": "percentile", "higher_is_better": True}]
    assert config_key.get(f"{BASE}/health-profiles/default/draft/").status_code == 404
    bad = config_key.put(
        f"{BASE}/health-profiles/default/draft/", {"factors": factors, "green_min": 30, "yellow_min": 60}, format="json"
    )
    assert bad.status_code == 400 and "factors" in bad.json()
    saved = config_key.put(
        f"{BASE}/health-profiles/default/draft/", {"factors": factors, "green_min": 75, "yellow_min": 45}, format="json"
    )
    assert saved.status_code == 200 and saved.json()["status"] == "draft"
    preview = config_key.post(f"{BASE}/health-profiles/default/preview/", {}, format="json")
    assert preview.status_code == 200 and "n" in preview.json()
    published = config_key.post(f"{BASE}/health-profiles/default/publish/")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert config_key.post(f"{BASE}/health-profiles/default/publish/").status_code == 404  # no draft left
    versions = config_key.get(f"{BASE}/health-profiles/default/versions/").json()
    assert [v["status"] for v in versions] == ["published", "archived"]
    created = config_key.post(f"{BASE}/health-profiles/", {"name": "SMB", "segment": "smb"}, format="json")
    assert created.status_code == 201 and created.json()["draft"]["number"] == 1
    again = config_key.post(f"{BASE}/health-profiles/", {"name": "SMB", "segment": "smb"}, format="json")
    assert again.status_code == 400 and "segment" in again.json()
    assert config_key.get(f"{BASE}/health-profiles/no-such-segment/").status_code == 404
    version = HealthProfileVersion.objects.get(profile__segment="", status="published")
    assert ("api", "api_key", "update") in _audited("health.healthprofileversion", version.pk)


def test_email_template_crud(config_key):
    assert config_key.post(f"{BASE}/email-templates/", TEMPLATE, format="json").status_code == 201
    bad = config_key.post(f"{BASE}/email-templates/", {**TEMPLATE, "key": "x y", "subject": ""}, format="json")
    assert bad.status_code == 400 and {"key", "subject"} <= set(bad.json())
    assert config_key.patch(f"{BASE}/email-templates/check-in/", {"subject": "Hi"}, format="json").status_code == 200
    assert EmailTemplate.objects.get(key="check-in").subject == "Hi"


def test_survey_schedule_gets_a_key_from_its_name(config_key):
    body = {"name": "NPS after a quarter", "kind": "nps", "trigger": "days_after_start", "offset_days": 90}
    created = config_key.post(f"{BASE}/survey-schedules/", body, format="json")
    assert created.status_code == 201 and created.json()["key"] == "nps-after-a-quarter"
    bad = config_key.patch(f"{BASE}/survey-schedules/nps-after-a-quarter/", {"sample_rate": 2}, format="json")
    assert bad.status_code == 400 and "sample_rate" in bad.json()
    ok = config_key.patch(f"{BASE}/survey-schedules/nps-after-a-quarter/", {"is_active": False}, format="json")
    assert ok.status_code == 200 and SurveySchedule.objects.get(key="nps-after-a-quarter").is_active is False
    assert config_key.delete(f"{BASE}/survey-schedules/nps-after-a-quarter/").status_code == 204


def test_goal_by_id_one_per_metric_quarter_and_segment(config_key):
    body = {"metric": "nps", "comparator": "gte", "target": "30", "year": 2026, "quarter": 1}
    created = config_key.post(f"{BASE}/goals/", body, format="json")
    assert created.status_code == 201
    assert config_key.post(f"{BASE}/goals/", body, format="json").status_code == 400  # one per quarter
    assert config_key.post(f"{BASE}/goals/", {**body, "quarter": 5}, format="json").status_code == 400
    goal_id = created.json()["id"]
    changed = config_key.patch(f"{BASE}/goals/{goal_id}/", {"target": "40", "year": 2030}, format="json")
    assert changed.status_code == 200 and changed.json()["target"] == "40.00" and changed.json()["year"] == 2026
    assert config_key.delete(f"{BASE}/goals/{goal_id}/").status_code == 204
    assert not Goal.objects.exists()
    assert _audited("dashboards.goal", goal_id)[-1] == ("api", "api_key", "delete")


def test_issue_route_per_issue_type(config_key, manager):
    put = config_key.put(f"{BASE}/issue-routes/billing/", {"assignee": manager.username, "sla_days": 3}, format="json")
    assert put.status_code == 200 and put.json() == {
        "issue_type": "billing", "assignee": manager.username, "role": "", "sla_days": 3
    }  # fmt: skip
    assert config_key.put(f"{BASE}/issue-routes/billing/", {"sla_days": 31}, format="json").status_code == 400
    assert config_key.put(f"{BASE}/issue-routes/teleport/", {"sla_days": 3}, format="json").status_code == 404
    assert [r["issue_type"] for r in config_key.get(f"{BASE}/issue-routes/").json()] == ["billing"]
    route = IssueRoute.objects.get(issue_type="billing")
    assert config_key.delete(f"{BASE}/issue-routes/billing/").status_code == 204
    assert [a for _, _, a in _audited("winback.issueroute", route.pk)] == ["create", "delete"]


def test_webhook_secret_is_write_only_and_shown_once(config_key):
    body = {"key": "crm", "url": "https://93.184.216.34/hook", "events": ["ping", "task.created"]}
    created = config_key.post(f"{BASE}/webhook-endpoints/", body, format="json")
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and WebhookEndpoint.objects.get(key="crm").secret == secret
    assert "secret" not in config_key.get(f"{BASE}/webhook-endpoints/crm/").json()
    assert all("secret" not in e for e in config_key.get(f"{BASE}/webhook-endpoints/").json()["results"])
    changed = config_key.patch(
        f"{BASE}/webhook-endpoints/crm/", {"secret": "s" * 20, "is_active": False}, format="json"
    )
    assert changed.status_code == 200 and "secret" not in changed.json() and changed.json()["is_active"] is False
    assert WebhookEndpoint.objects.get(key="crm").secret == "s" * 20
    given = config_key.post(f"{BASE}/webhook-endpoints/", {**body, "key": "crm-2", "secret": "t" * 24}, format="json")
    assert given.status_code == 201 and given.json()["secret"] == "t" * 24
    unsafe = config_key.post(
        f"{BASE}/webhook-endpoints/", {**body, "key": "x", "url": "http://127.0.0.1/"}, format="json"
    )
    assert unsafe.status_code == 400 and "url" in unsafe.json()
    endpoint = WebhookEndpoint.objects.get(key="crm")
    # The trail says the secret changed, never what it is.
    entries = AuditEntry.objects.filter(object_type="messaging.webhookendpoint", object_id=str(endpoint.pk))
    assert entries.filter(door="api").count() >= 2
    assert all("s" * 20 not in str(e.changes) and secret not in str(e.changes) for e in entries)


@pytest.mark.parametrize(
    ("language", "words"), [("it", "è usato da regola «Mailer»"), ("bg", "се използва от правилото „Mailer“")]
)
def test_a_refusal_speaks_the_callers_language(config_key, language, words):
    config_key.post(f"{BASE}/email-templates/", TEMPLATE, format="json")
    mailer = {**RULE, "name": "Mailer", "actions": [{"type": "send_email", "template": "check-in"}]}
    assert config_key.post(f"{BASE}/rules/", mailer, format="json").status_code == 201
    refused = config_key.delete(f"{BASE}/email-templates/check-in/", HTTP_ACCEPT_LANGUAGE=language)
    assert refused.status_code == 409 and words in refused.json()["detail"]
