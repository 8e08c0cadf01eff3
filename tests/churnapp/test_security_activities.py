"""Audit entries (activities of kind "change") are the system's: nobody creates, edits or deletes them through the
API; other activities are edited by their author only."""

from __future__ import annotations

import orjson
import pytest
from django.core.cache import cache

from accounts.models import Activity, ActivityKind
from accounts.services import account_set_status
from churnapp.apikeys import api_key_create
from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()


def send(client, method, url, body, **headers):
    return getattr(client, method)(url, orjson.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def audit_entry(manager, own_account):
    account_set_status(account=own_account, status="churned", actor=manager)
    return Activity.objects.get(account=own_account, kind=ActivityKind.CHANGE)


def test_csm_cannot_rewrite_a_managers_audit_entry(client, csm, audit_entry):
    client.force_login(csm)
    response = send(client, "patch", f"/api/v1/activities/{audit_entry.pk}/", {"body": "Nothing happened."})
    assert response.status_code == 403
    assert "Audit entries" in response.json()["detail"]
    before = audit_entry.body
    audit_entry.refresh_from_db()
    assert audit_entry.body == before


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_even_a_manager_or_a_write_key_cannot_edit_or_delete_audit_entries(client, manager, audit_entry, method):
    client.force_login(manager)
    body = {"account": audit_entry.account.external_id, "body": "x"}
    assert send(client, method, f"/api/v1/activities/{audit_entry.pk}/", body).status_code == 403
    client.logout()
    _, secret = api_key_create(name="crm", scopes=["read", "write", "admin"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert send(client, method, f"/api/v1/activities/{audit_entry.pk}/", body, **auth).status_code == 403
    assert Activity.objects.filter(pk=audit_entry.pk, kind=ActivityKind.CHANGE).exists()


@pytest.mark.parametrize("url", ["/api/v1/activities/", "/api/v1/activities/bulk/"])
def test_nobody_creates_change_entries(client, manager, own_account, url):
    client.force_login(manager)
    row = {"account": own_account.external_id, "kind": "change", "body": "Status changed from Active to Churned"}
    response = send(client, "post", url, [row] if url.endswith("bulk/") else row)
    assert response.status_code == 400
    errors = response.json()["errors"][0]["errors"] if url.endswith("bulk/") else response.json()
    assert "audit log" in errors["kind"][0]
    assert not Activity.objects.filter(kind=ActivityKind.CHANGE).exists()


def test_a_note_cannot_be_turned_into_a_change_entry(client, csm, own_account):
    note = ActivityFactory(account=own_account, author=csm)
    client.force_login(csm)
    response = send(client, "patch", f"/api/v1/activities/{note.pk}/", {"kind": "change"})
    assert response.status_code == 400
    note.refresh_from_db()
    assert note.kind == ActivityKind.NOTE


def test_csm_cannot_edit_someone_elses_note_on_own_account(client, csm, manager, own_account):
    note = ActivityFactory(account=own_account, author=manager, body="Promised a discount.")
    client.force_login(csm)
    response = send(client, "patch", f"/api/v1/activities/{note.pk}/", {"body": "Promised nothing."})
    assert response.status_code == 403
    assert "author" in response.json()["detail"]
    note.refresh_from_db()
    assert note.body == "Promised a discount."


def test_author_edits_own_note(client, csm, own_account):
    note = ActivityFactory(account=own_account, author=csm, body="Draft")
    client.force_login(csm)
    response = send(client, "patch", f"/api/v1/activities/{note.pk}/", {"body": "Final"})
    assert response.status_code == 200, response.json()
    note.refresh_from_db()
    assert (note.body, note.author_id) == ("Final", csm.pk)


def test_manager_deletes_but_cannot_rewrite_someone_elses_note(client, csm, manager, own_account):
    note = ActivityFactory(account=own_account, author=csm, body="Promised a discount.")
    client.force_login(manager)
    assert send(client, "patch", f"/api/v1/activities/{note.pk}/", {"body": "Promised nothing."}).status_code == 403
    note.refresh_from_db()
    assert note.body == "Promised a discount."
    assert send(client, "delete", f"/api/v1/activities/{note.pk}/", None).status_code == 204
    assert not Activity.objects.filter(pk=note.pk).exists()
