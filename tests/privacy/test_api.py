"""The privacy API: admins and `admin`-scope keys erase (201 with the summary) and export (a streamed bundle);
bad input is a 400 with a message per field, other roles and scopes a 403, unknown ids a 404."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import ImportJob, ImportStatus
from audit.models import AuditEntry
from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory, ContactFactory
from tests.privacy.planting import EMAIL, NAME, PERSON_MARKERS, tables_mentioning

pytestmark = pytest.mark.django_db
ERASURES = "/api/v1/privacy/erasures/"


def _key_client(*scopes: str) -> Client:
    cache.clear()
    _, secret = api_key_create(name="privacy-test", scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def _post(client: Client, body) -> object:
    return client.post(ERASURES, json.dumps(body), content_type="application/json")


def test_an_admin_key_erases_a_contact_and_gets_the_summary(planted, django_capture_on_commit_callbacks):
    client = _key_client("admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, {"contact": planted.contact.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["subject"], body["id"], body["account"]) == ("contact", planted.contact.pk, planted.account.pk)
    assert body["counts"]["accounts.UsageEvent"] == 4 and body["rows"] == sum(body["counts"].values())
    assert EMAIL not in response.content.decode() and NAME not in response.content.decode()
    assert tables_mentioning(PERSON_MARKERS) == {}
    entry = planted.account.activities.get(subject="Personal data erased")
    assert entry.author is None and entry.details["door"] == "api" and entry.details["erased"] == "contact"
    # The audit trail: one entry for the erasure, by the key through the API, holding the counts and nothing else.
    trail = AuditEntry.objects.get(action="erase")
    assert (trail.door, trail.actor_kind, trail.actor_label, trail.object_type, trail.object_id) == (
        "api", "api_key", "privacy-test", "accounts.contact", str(planted.contact.pk)
    )  # fmt: skip
    assert trail.changes == {"erased": {place: count for place, count in body["counts"].items() if count}}
    assert (
        not AuditEntry.objects.filter(object_type="accounts.contact", object_id=str(planted.contact.pk))
        .exclude(action="erase")
        .exclude(changes={})
        .exists()
    )  # the contact's earlier entries keep who and when, not what


def test_an_admin_session_erases_an_account(client, admin_user):
    account = AccountFactory()
    ContactFactory(account=account)
    client.force_login(admin_user)
    response = _post(client, {"account": account.pk})
    assert response.status_code == 201, response.content
    account.refresh_from_db()
    assert account.external_id == f"erased-{account.pk}"
    assert account.activities.get(subject="Personal data erased").author == admin_user
    trail = AuditEntry.objects.get(action="erase")
    assert (trail.door, trail.actor_kind, trail.user_id, trail.object_type) == (
        "api", "user", admin_user.pk, "accounts.account"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"contact": 1, "account": 1}, "non_field_errors"),
        ({"contact": "abc"}, "contact"),
        ({"account": -3}, "account"),
        ({"account": 2**70}, "account"),
        ([1, 2], "non_field_errors"),
    ],
)
def test_bad_input_is_a_400_with_a_message_per_field(body, field):
    response = _post(_key_client("admin"), body)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("kind", ["contact", "account"])
def test_unknown_ids_are_a_404(kind):
    assert _post(_key_client("admin"), {kind: 999_999}).status_code == 404
    assert _key_client("admin").get(f"/api/v1/privacy/exports/{kind}/999999/").status_code == 404


@pytest.mark.parametrize("scopes", [["read"], ["write"], ["ingest"], ["read", "write"]])
def test_keys_without_the_admin_scope_are_refused(scopes):
    contact = ContactFactory()
    client = _key_client(*scopes)
    assert _post(client, {"contact": contact.pk}).status_code == 403
    assert client.get(f"/api/v1/privacy/exports/contact/{contact.pk}/").status_code == 403
    contact.refresh_from_db()
    assert contact.email


@pytest.mark.parametrize("role", ["viewer", "csm", "manager"])
def test_other_roles_are_refused(client, request, role):
    contact = ContactFactory()
    client.force_login(request.getfixturevalue(role))
    assert _post(client, {"contact": contact.pk}).status_code == 403
    assert client.get(f"/api/v1/privacy/exports/account/{contact.account_id}/").status_code == 403
    contact.refresh_from_db()
    assert contact.email


def test_anonymous_is_a_401():
    assert _post(Client(), {"contact": 1}).status_code == 401


def test_an_import_still_reading_their_file_is_a_409_and_nothing_changes(planted):
    job = ImportJob.objects.filter(kind="contacts").get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    response = _post(_key_client("admin"), {"contact": planted.contact.pk})
    assert response.status_code == 409
    assert f"#{job.pk}" in response.json()["detail"]
    planted.contact.refresh_from_db()
    assert planted.contact.email == EMAIL


def test_the_export_is_a_streamed_json_bundle(planted):
    response = _key_client("admin").get(f"/api/v1/privacy/exports/contact/{planted.contact.pk}/")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    bundle = json.loads(b"".join(response.streaming_content))
    assert bundle["subject"]["id"] == planted.contact.pk
    assert [row["email"] for row in bundle["data"]["accounts.Contact"] if row["id"] == planted.contact.pk] == [EMAIL]
    assert len(bundle["data"]["accounts.UsageEvent"]) == 4


def test_the_account_export_streams_every_event(planted):
    response = _key_client("admin").get(f"/api/v1/privacy/exports/account/{planted.account.pk}/")
    bundle = json.loads(b"".join(response.streaming_content))
    assert len(bundle["data"]["accounts.UsageEvent"]) == planted.account.usage_events.count()
    assert {row["email"] for row in bundle["data"]["accounts.Contact"]} >= {EMAIL}
