"""The configuration bundle: export, apply to an empty database, export again → the same bundle and the same
behaviour (every rule matches the same accounts); applying twice changes nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from automations import conditions
from automations.models import Rule
from configuration import bundle
from configuration.bundle.schema import bundle_schema
from messaging.models import WebhookEndpoint
from tests.configuration.bundle_world import delete_configuration, demo_configuration

pytestmark = pytest.mark.django_db


def _firing() -> dict[str, list[int]]:
    """Per rule, the accounts its conditions match now (what the dry run and the evaluation select)."""
    now = timezone.now()
    return {
        rule.key: sorted(row["pk"] for row in conditions.matching(rule.conditions, now=now)[0])
        for rule in Rule.objects.order_by("key")
    }


def test_round_trip_to_an_empty_database_gives_the_same_bundle_and_the_same_rules_firing():
    demo_configuration()
    exported = bundle.export_bundle()
    firing = _firing()
    assert len(exported["rules"]) == 14 and len(exported["playbooks"]) == 9 and len(exported["journeys"]) == 2
    assert {p["segment"] for p in exported["health_profiles"]} == {"default", "smb"}
    assert exported["goals"] and exported["issue_routes"] and exported["survey_schedules"]
    assert exported["webhook_endpoints"][0] == {
        "key": "crm",
        "url": "https://crm.example.com/hooks",
        "description": "CRM",
        "events": ["task.created"],
        "is_active": True,
    }
    assert any(firing.values())
    text = bundle.dump(exported)

    delete_configuration()
    assert bundle.export_bundle()["rules"] == []
    result = bundle.apply(bundle.parse(text), door="command")

    assert bundle.export_bundle() == exported
    assert _firing() == firing
    assert result.counts()["create"] == sum(len(exported[k.section]) for k in bundle.KINDS)
    assert any("signing secret whsec_" in note for note in result.notes)
    assert WebhookEndpoint.objects.get().secret.startswith("whsec_")
    assert AuditEntry.objects.filter(door="command", object_type="automations.rule").count() == 14


def test_applying_the_same_bundle_twice_changes_nothing():
    demo_configuration()
    exported = bundle.export_bundle()
    rule = Rule.objects.get(key=exported["rules"][0]["key"])
    stamps = (rule.updated_at, WebhookEndpoint.objects.get().secret)
    entries = AuditEntry.objects.count()

    first = bundle.apply(exported)
    second = bundle.plan(exported, prune=True)

    assert first.empty and second.empty
    assert bundle.apply(exported, prune=True).empty
    assert AuditEntry.objects.count() == entries
    rule.refresh_from_db()
    assert (rule.updated_at, WebhookEndpoint.objects.get().secret) == stamps


def test_the_exported_bundle_validates_against_the_schema_and_a_broken_one_does_not():
    from jsonschema import Draft202012Validator

    demo_configuration()
    exported = bundle.export_bundle()
    validator = Draft202012Validator(bundle_schema())
    Draft202012Validator.check_schema(bundle_schema())
    assert list(validator.iter_errors(exported)) == []
    broken = {**exported, "rules": [{**exported["rules"][0], "cooldown_days": "soon"}]}
    assert list(validator.iter_errors(broken))
