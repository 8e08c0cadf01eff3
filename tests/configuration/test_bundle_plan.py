"""Planning and applying a bundle: creates, changes field by field, deletes only with prune; all or nothing; bad
files rejected with a message naming the object and the field."""

from __future__ import annotations

import copy

import pytest

from automations.models import Rule
from configuration import bundle
from configuration.bundle import BundleInvalid
from messaging.models import EmailTemplate
from tests.configuration.bundle_world import demo_configuration

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported():
    demo_configuration()
    return bundle.export_bundle()


def _rule(data: dict, key: str) -> dict:
    return next(r for r in data["rules"] if r["key"] == key)


def test_plan_lists_a_change_field_by_field_a_create_and_deletes_only_with_prune(exported):
    data = copy.deepcopy(exported)
    first, second = data["rules"][0], data["rules"][1]
    first["cooldown_days"] = 30
    data["rules"].remove(second)
    data["email_templates"].append({"key": "renewal", "name": "Renewal", "subject": "Renewal", "body_text": "Hi"})

    kept = bundle.plan(data)
    pruned = bundle.plan(data, prune=True)

    assert [(e.action, e.section, e.key) for e in kept.entries] == [
        ("create", "email_templates", "renewal"),
        ("change", "rules", first["key"]),
    ]
    assert [c.as_dict() for c in kept.entries[1].changes] == [
        {"field": "cooldown_days", "old": _rule(exported, first["key"])["cooldown_days"], "new": 30}
    ]
    assert ("delete", "rules", second["key"]) in [(e.action, e.section, e.key) for e in pruned.entries]
    text = bundle.render(pruned)
    assert f"~ change rules {first['key']}\n    cooldown_days: " in text
    assert f"- delete rules {second['key']}" in text and "+ create email_templates renewal" in text
    assert text.endswith("Plan: 1 to create, 1 to change, 1 to delete.\n")
    assert Rule.objects.get(key=first["key"]).cooldown_days != 30  # planning writes nothing

    bundle.apply(data, prune=True)
    assert Rule.objects.get(key=first["key"]).cooldown_days == 30
    assert not Rule.objects.filter(key=second["key"]).exists()
    assert EmailTemplate.objects.filter(key="renewal").exists()


def test_nested_changes_name_the_path(exported):
    data = copy.deepcopy(exported)
    rule = data["rules"][0]
    rule["actions"][0]["title"] = "Call them this week"
    change = bundle.plan(data).entries[0].changes[0]
    assert change.field == "actions[0].title" and change.new == "Call them this week"


def test_a_bad_object_in_the_middle_leaves_the_database_unchanged(exported):
    data = copy.deepcopy(exported)
    data["email_templates"].append({"key": "renewal", "name": "Renewal", "subject": "Renewal", "body_text": "Hi"})
    data["rules"][0]["cooldown_days"] = 30
    data["rules"][1]["conditions"] = {"all": [{"type": "no_such_condition"}]}
    data["goals"].append({"metric": "nps", "year": 2027, "quarter": 1, "comparator": "gte", "target": 10})
    before = bundle.export_bundle()

    with pytest.raises(BundleInvalid) as error:
        bundle.apply(data)

    assert str(error.value).startswith(f"rules ({data['rules'][1]['key']}): ")
    assert bundle.export_bundle() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("- just\n- a list\n", "The bundle is a mapping"),
        ("rules: {}\n", "version"),
        ("version: 1\nrules: {}\n", "rules: {} is not of type 'array'"),
        ("version: 1\nwidgets: []\n", "Additional properties are not allowed ('widgets' was unexpected)"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused_with_a_message(db, data, message):
    with pytest.raises(BundleInvalid, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        bundle.plan(bundle.parse(data))


def test_not_yaml_is_refused(db):
    with pytest.raises(BundleInvalid, match="Not valid YAML or JSON"):
        bundle.parse("version: 1\nrules: [\n")


def test_an_unknown_field_names_the_object_and_the_field(exported):
    data = copy.deepcopy(exported)
    data["rules"][2]["colour"] = "red"
    with pytest.raises(BundleInvalid, match=r"^rules\[2\]: Additional properties .*'colour'"):
        bundle.plan(data)


def test_a_reference_to_a_missing_template_is_refused(exported):
    data = copy.deepcopy(exported)
    data["rules"][0]["actions"] = [{"type": "send_email", "template": "no-such-template"}]
    with pytest.raises(BundleInvalid, match=r"actions\[0\]\.template: no email template 'no-such-template'"):
        bundle.plan(data)
    playbook = data["playbooks"][0]
    email_steps = [s for s in playbook["steps"] if s["kind"] == "email"]
    data["email_templates"] = [t for t in data["email_templates"] if t["key"] != "reactivation-1"]
    data["rules"][0]["actions"] = exported["rules"][0]["actions"]
    if email_steps:
        assert bundle.plan(data).empty  # the template stays in the database without prune
    with pytest.raises(BundleInvalid, match="no email template 'reactivation-1'"):
        bundle.plan(data, prune=True)


def test_a_key_used_twice_is_refused(exported):
    data = copy.deepcopy(exported)
    data["rules"].append(data["rules"][0])
    with pytest.raises(BundleInvalid, match="the key is used twice"):
        bundle.plan(data)


def test_a_new_webhook_endpoint_gets_a_secret_shown_once_and_an_existing_one_keeps_its_own(exported):
    data = copy.deepcopy(exported)
    data["webhook_endpoints"][0]["description"] = "CRM (prod)"
    data["webhook_endpoints"].append({"key": "slack", "url": "https://hooks.example.com/x", "events": ["ping"]})
    from messaging.models import WebhookEndpoint

    old_secret = WebhookEndpoint.objects.get(key="crm").secret
    result = bundle.apply(data)
    assert WebhookEndpoint.objects.get(key="crm").secret == old_secret
    assert WebhookEndpoint.objects.get(key="crm").description == "CRM (prod)"
    assert result.notes == [
        f"Webhook endpoint slack: signing secret {WebhookEndpoint.objects.get(key='slack').secret} (shown once)."
    ]
    assert "secret" not in str(bundle.export_bundle()["webhook_endpoints"])


def test_a_changed_health_profile_is_published_as_a_new_version_and_a_goal_target_changes(exported):
    from dashboards.models import Goal
    from health.models import HealthProfileVersion

    data = copy.deepcopy(exported)
    default = next(p for p in data["health_profiles"] if p["segment"] == "default")
    default["green_min"] = 80
    goal = next(g for g in data["goals"] if g["metric"] == "monthly_churn")
    goal["target"] = 3
    result = bundle.apply(data)

    assert [(e.section, e.key, [c.field for c in e.changes]) for e in result.entries] == [
        ("health_profiles", "default", ["green_min"]),
        ("goals", "monthly_churn-2026-q1", ["target"]),
    ]
    published = HealthProfileVersion.objects.get(profile__segment="", status="published")
    assert published.green_min == 80 and published.number == 2
    assert Goal.objects.get(metric="monthly_churn").target == 3
    assert bundle.plan(data).empty
