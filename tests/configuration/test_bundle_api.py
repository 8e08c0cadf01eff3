"""The bundle over the API: export as JSON or YAML, plan and apply (JSON or YAML bodies, prune), the schema, and
who may use it (admins, `config` and `admin` keys)."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from django.core.cache import cache
from rest_framework.test import APIClient

from audit.models import AuditEntry
from automations.models import Rule
from churnapp.apikeys import api_key_create
from configuration import bundle
from tests.configuration.bundle_world import demo_configuration

pytestmark = pytest.mark.django_db
URL = "/api/v1/config/bundle/"


def _key(*scopes: str) -> APIClient:
    cache.clear()
    _, secret = api_key_create(name="bundle-test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def exported():
    demo_configuration()
    return bundle.export_bundle()


def test_export_as_json_and_as_yaml(exported):
    client = _key("config")
    assert client.get(URL).json() == json.loads(json.dumps(exported))
    response = client.get(URL, HTTP_ACCEPT="application/yaml")
    assert response["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(response.content) == exported
    assert yaml.safe_load(client.get(URL + "?format=yaml").content) == exported


def test_plan_then_apply_a_json_body_through_the_api_with_the_audit_door(exported, admin_user):
    data = copy.deepcopy(exported)
    data["rules"][0]["cooldown_days"] = 30
    client = _user(admin_user)

    plan = client.post(URL + "plan/", data, format="json")
    assert plan.status_code == 200
    assert plan.json()["entries"] == [
        {
            "section": "rules",
            "key": data["rules"][0]["key"],
            "action": "change",
            "changes": [{"field": "cooldown_days", "old": exported["rules"][0]["cooldown_days"], "new": 30}],
        }
    ]
    assert Rule.objects.get(key=data["rules"][0]["key"]).cooldown_days != 30

    applied = client.post(URL + "apply/", data, format="json")
    assert applied.status_code == 200 and applied.json()["counts"] == {"create": 0, "change": 1, "delete": 0}
    assert Rule.objects.get(key=data["rules"][0]["key"]).cooldown_days == 30
    entry = AuditEntry.objects.filter(object_type="automations.rule").latest("id")
    assert (entry.door, entry.actor_label) == ("api", "admin")
    assert client.post(URL + "apply/", data, format="json").json()["empty"] is True


def test_a_yaml_body_and_prune(exported):
    data = copy.deepcopy(exported)
    gone = data["rules"].pop()
    client = _key("admin")
    body = bundle.dump(data)
    kept = client.post(URL + "plan/", body, content_type="application/yaml")
    assert kept.status_code == 200 and kept.json()["empty"] is True
    pruned = client.post(URL + "apply/?prune=true", body, content_type="application/yaml")
    assert pruned.json()["entries"] == [{"section": "rules", "key": gone["key"], "action": "delete", "changes": []}]
    assert not Rule.objects.filter(key=gone["key"]).exists()


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("rules: [\n", "application/yaml", "Not valid YAML or JSON"),
        ("[1, 2]", "application/json", "The bundle is a mapping"),
        ('{"version": 1, "widgets": []}', "application/json", "'widgets' was unexpected"),
        ("version: 1\nrules:\n- key: a\n  name: A\n  colour: red\n", "application/yaml", "'colour' was unexpected"),
    ],
)
def test_bad_bundles_are_400_with_a_message(db, body, content_type, message):
    response = _key("config").post(URL + "plan/", body, content_type=content_type)
    assert response.status_code == 400
    assert message in json.dumps(response.json())


def test_a_reference_to_a_missing_template_is_400_and_changes_nothing(exported):
    data = copy.deepcopy(exported)
    data["rules"][0]["actions"] = [{"type": "send_email", "template": "gone"}]
    data["rules"][1]["cooldown_days"] = 99
    response = _key("config").post(URL + "apply/", data, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "bundle": [f"rules ({data['rules'][0]['key']}): actions[0].template: no email template 'gone'."]
    }
    assert bundle.export_bundle() == exported


def test_the_json_schema_is_published_and_linked_from_the_api_docs(db, csm):
    schema = _user(csm).get(URL + "schema.json").json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "rules" in schema["properties"]
    description = _user(csm).get("/api/schema/?format=json").json()["info"]["description"]
    assert "/api/v1/config/bundle/schema.json" in description


@pytest.mark.parametrize("scopes", [("read",), ("write",), ("ingest",)])
def test_other_keys_are_refused(db, scopes):
    assert _key(*scopes).get(URL).status_code == 403
    assert _key(*scopes).post(URL + "apply/", {"version": 1}, format="json").status_code == 403


def test_managers_and_csms_are_refused(db, manager, csm):
    for user in (manager, csm):
        assert _user(user).get(URL).status_code == 403
        assert _user(user).post(URL + "plan/", {"version": 1}, format="json").status_code == 403
