"""The trail page, its filters and exports, the API, who may read it, and that nothing can alter it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from audit import gate
from audit.models import AuditEntry
from audit.services import purge_expired, record_erasure
from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(admin_user, client):
    """Two accounts, one edited on the page by the admin; a contact created by the system."""
    first, second = AccountFactory(name="Acme", plan="Growth"), AccountFactory(name="Globex")
    client.force_login(admin_user)
    client.post(f"/accounts/{first.pk}/status/", {"status": "at_risk"})
    ContactFactory(account=second, email="zed@example.com")
    return first, second


def test_admins_browse_and_filter_by_account_door_and_person(client, admin_user, history):
    first, second = history
    page = client.get("/settings/audit/")
    assert page.status_code == 200
    assert b"Acme" in page.content and b"Globex" in page.content and b"zed@example.com" in page.content
    by_account = client.get(f"/settings/audit/?account={first.pk}").content.decode()
    assert "Acme" in by_account and "zed@example.com" not in by_account
    by_person = client.get(f"/settings/audit/?user={admin_user.pk}&door=ui").content.decode()
    assert "→ At risk" in by_person and "zed@example.com" not in by_person
    by_object = client.get("/settings/audit/?object_type=accounts.contact&action=create").content.decode()
    assert "zed@example.com" in by_object and "At risk" not in by_object
    today = timezone.localdate()
    assert "Acme" in client.get(f"/settings/audit/?since={today}&until={today}").content.decode()
    yesterday = today - dt.timedelta(days=1)
    assert "Acme" not in client.get(f"/settings/audit/?until={yesterday}").content.decode().split("audit-entries")[1]


def test_the_page_shows_labels_and_the_exports_keep_the_stored_codes(client, history):
    entry = AuditEntry.objects.get(object_type="accounts.account", action="update")
    assert entry.change_rows == [("status", "Active", "At risk")]
    assert entry.changes == {"status": ["active", "at_risk"]}
    exported = client.get("/settings/audit/?format=csv&object_type=accounts.account&action=update")
    assert "at_risk" in b"".join(exported.streaming_content).decode()


def test_bad_filters_say_what_is_wrong_and_show_nothing(client, history):
    response = client.get("/settings/audit/?door=side-window&since=yesterday")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="audit-filter-errors"' in text and "side-window" in text
    assert "Acme" not in text.split('data-testid="audit-entries"')[1]


def test_exports_follow_the_filters(client, history):
    first, _ = history
    response = client.get(f"/settings/audit/?account={first.pk}&format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["account_id"] for row in rows} == {str(first.pk)}
    assert any(json.loads(row["changes"]).get("status") == [first.status, "at_risk"] for row in rows)
    response = client.get("/settings/audit/?object_type=accounts.contact&format=json")
    exported = json.loads(b"".join(response.streaming_content))
    assert [e["changes"]["email"] for e in exported] == [[None, "zed@example.com"]]
    assert response["Content-Disposition"].startswith("attachment;")


def test_the_account_page_links_admins_to_its_entries(client, admin_user, csm, own_account):
    client.force_login(admin_user)
    assert f"/settings/audit/?account={own_account.pk}".encode() in client.get(f"/accounts/{own_account.pk}/").content
    client.force_login(csm)
    assert b'data-testid="account-audit-link"' not in client.get(f"/accounts/{own_account.pk}/").content


@pytest.mark.parametrize("who", ["manager", "csm", "viewer"])
def test_only_admins_read_the_trail(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/settings/audit/").status_code == 403
    assert client.get("/api/v1/audit-entries/").status_code == 403


def test_the_api_lists_and_filters_for_admin_keys_only(client, history):
    first, _ = history
    _, admin_key = api_key_create(name="SIEM", scopes=["admin"])
    _, read_key = api_key_create(name="BI", scopes=["read"])
    response = client.get(f"/api/v1/audit-entries/?account={first.pk}", HTTP_AUTHORIZATION=f"Bearer {admin_key}")
    assert response.status_code == 200
    assert {e["account_id"] for e in response.json()["results"]} == {first.pk}
    assert client.get("/api/v1/audit-entries/", HTTP_AUTHORIZATION=f"Bearer {read_key}").status_code == 403
    bad = client.get("/api/v1/audit-entries/?door=side-window", HTTP_AUTHORIZATION=f"Bearer {admin_key}")
    assert bad.status_code == 400 and "door" in bad.json()


def test_nobody_can_alter_an_entry_through_the_product(client, admin_user, history):
    entry = AuditEntry.objects.filter(action="update").first()
    _, admin_key = api_key_create(name="SIEM", scopes=["admin"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {admin_key}"}
    url = f"/api/v1/audit-entries/{entry.pk}/"
    assert client.put(url, {"action": "create"}, content_type="application/json", **auth).status_code == 405
    assert client.patch(url, {"action": "create"}, content_type="application/json", **auth).status_code == 405
    assert client.delete(url, **auth).status_code == 405
    assert client.post("/api/v1/audit-entries/", {}, content_type="application/json", **auth).status_code == 405
    assert client.post("/settings/audit/", {"id": entry.pk}).status_code == 405
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="create")
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.action = "create"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "update"


def test_the_database_refuses_a_change_that_bypasses_the_product(history):
    entry = AuditEntry.objects.first()
    table = AuditEntry._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET action = 'create' WHERE id = %s", [entry.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == entry.action
    with gate.opened():  # the erasure's and the purge's way in, inside their own transaction
        AuditEntry.objects.filter(pk=entry.pk).update(object_label="scrubbed")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET action = 'create' WHERE id = %s", [entry.pk])  # closed again


def test_retention_removes_only_entries_past_the_period(settings, history):
    settings.AUDIT_RETENTION_DAYS = 30
    old = AuditEntry.objects.order_by("id").first()
    total = AuditEntry.objects.count()
    with gate.opened():
        AuditEntry.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - dt.timedelta(days=31))
    assert purge_expired() == 1
    assert AuditEntry.objects.count() == total - 1 and not AuditEntry.objects.filter(pk=old.pk).exists()
    settings.AUDIT_RETENTION_DAYS = 0
    with gate.opened():
        AuditEntry.objects.update(occurred_at=timezone.now() - dt.timedelta(days=3650))
    assert purge_expired() == 0


def test_an_erasure_records_itself_with_counts_only():
    account = AccountFactory(name="Initech")
    contact = ContactFactory(account=account, email="peter@initech.test", name="Peter")
    record_erasure(type(contact), object_id=contact.pk, account_id=account.pk, counts={"contacts": 1, "events": 12})
    entry = AuditEntry.objects.get(action="erase")
    assert (entry.object_type, entry.object_id, entry.account_id, entry.object_label) == (
        "accounts.contact", str(contact.pk), account.pk, ""
    )  # fmt: skip
    assert entry.changes == {"erased": {"contacts": 1, "events": 12}}
    [(field, before, after)] = entry.change_rows
    assert (field, before, json.loads(after)) == ("erased", "", {"contacts": 1, "events": 12})
