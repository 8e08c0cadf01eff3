"""Who reaches the configuration API: `config` and `admin` keys (not `read`, `write` or `ingest`); every signed-in
role reads, managers and admins write; outgoing webhooks are for admins. A session user's change is recorded in
the audit trail under their name, through the API door."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from churnapp.models import ApiScope
from tests.configuration.conftest_api import key_client, user_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/config"
LISTS = ["rules", "playbooks", "journeys", "health-profiles", "email-templates", "survey-schedules", "goals",
         "issue-routes"]  # fmt: skip
GOAL = {"metric": "nps", "comparator": "gte", "target": "30", "year": 2026, "quarter": 2}


def test_the_config_scope_exists_and_is_listed_on_the_api_key_page(client, admin_user):
    assert ApiScope.CONFIG == "config"
    client.force_login(admin_user)
    page = client.get(reverse("api-keys"))
    assert page.status_code == 200 and 'value="config"' in page.content.decode()


@pytest.mark.parametrize("scope", ["config", "admin"])
def test_config_and_admin_keys_read_and_write(scope):
    client = key_client(scope)
    for name in [*LISTS, "webhook-endpoints"]:
        assert client.get(f"{BASE}/{name}/").status_code == 200, name
    assert client.post(f"{BASE}/goals/", GOAL, format="json").status_code == 201


@pytest.mark.parametrize("scope", ["read", "write", "ingest"])
def test_other_keys_are_refused(scope):
    client = key_client(scope)
    for name in [*LISTS, "webhook-endpoints"]:
        assert client.get(f"{BASE}/{name}/").status_code == 403, name
    assert client.post(f"{BASE}/goals/", GOAL, format="json").status_code == 403


def test_anonymous_is_asked_to_authenticate(client):
    assert client.get(f"{BASE}/rules/").status_code == 401


def test_viewers_and_csms_read_but_do_not_write(viewer, csm):
    for user in (viewer, csm):
        client = user_client(user)
        for name in LISTS:
            assert client.get(f"{BASE}/{name}/").status_code == 200, name
        assert client.post(f"{BASE}/goals/", GOAL, format="json").status_code == 403
        assert client.put(f"{BASE}/issue-routes/billing/", {"sla_days": 2}, format="json").status_code == 403
        assert client.post(f"{BASE}/health-profiles/default/publish/").status_code == 403
        assert client.get(f"{BASE}/webhook-endpoints/").status_code == 403


def test_managers_write_but_webhooks_are_for_admins(manager, admin_user):
    client = user_client(manager)
    created = client.post(f"{BASE}/goals/", GOAL, format="json")
    assert created.status_code == 201
    assert client.put(f"{BASE}/issue-routes/billing/", {"sla_days": 2}, format="json").status_code == 200
    assert client.get(f"{BASE}/webhook-endpoints/").status_code == 403
    assert user_client(admin_user).get(f"{BASE}/webhook-endpoints/").status_code == 200
    entry = AuditEntry.objects.get(object_type="dashboards.goal", object_id=str(created.json()["id"]))
    assert (entry.door, entry.actor_kind, entry.user_id, entry.action) == ("api", "user", manager.pk, "create")
