from __future__ import annotations

import json
import time

import pytest

from accounts.models import InboundWebhookEvent, SupportTicket
from accounts.webhooks_helpdesk import helpdesk_signature
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
SECRET = "helpdesk-secret"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.HELPDESK_WEBHOOK_SECRET = SECRET


def deliver(client, payload: dict, *, secret: str = SECRET, timestamp: int | None = None):
    body = json.dumps(payload).encode()
    ts = str(timestamp or int(time.time()))
    return client.post(
        "/webhooks/helpdesk/", body, content_type="application/json", HTTP_X_HELPDESK_TIMESTAMP=ts,
        HTTP_X_HELPDESK_SIGNATURE=helpdesk_signature(secret=secret, timestamp=ts, body=body),
    )  # fmt: skip


def ticket(**changes) -> dict:
    data = {"id": "Z-1", "subject": "Export broken", "status": "new", "priority": "high",
            "opened_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-01T10:00:00Z",
            "requester": {"email": "ana@acme.example"}, "organization": {}}  # fmt: skip
    data.update(changes)
    return {"ticket": data}


def test_ticket_maps_to_account_by_organisation_external_id(client):
    account = AccountFactory(external_id="acc-1")
    response = deliver(client, ticket(organization={"external_id": "acc-1"}))
    assert response.json() == {"status": "processed"}
    t = SupportTicket.objects.get(external_id="Z-1")
    assert (t.account, t.status, t.priority) == (account, "open", "high")


def test_ticket_maps_by_requester_email_domain_and_updates(client):
    account = AccountFactory(domain="acme.example")
    deliver(client, ticket())
    deliver(client, ticket(status="solved", resolved_at="2024-05-02T10:00:00Z", updated_at="2024-05-02T10:00:00Z"))
    t = SupportTicket.objects.get()
    assert (t.account, t.status) == (account, "resolved")
    assert t.resolved_at is not None


def test_retries_are_deduplicated(client):
    AccountFactory(domain="acme.example")
    payload = {**ticket(), "event_id": "e-1"}
    deliver(client, payload)
    assert deliver(client, payload).json() == {"status": "duplicate"}


def test_unknown_organisation_is_recorded_with_202(client):
    response = deliver(client, ticket(requester={"email": "x@nowhere.example"}))
    assert response.status_code == 202
    assert InboundWebhookEvent.objects.get().status == "unmatched"
    assert not SupportTicket.objects.exists()


@pytest.mark.parametrize("variant", [{"secret": "wrong"}, {"timestamp": int(time.time()) - 3600}])
def test_bad_or_stale_signatures_get_401(client, variant):
    AccountFactory(domain="acme.example")
    assert deliver(client, ticket(), **variant).status_code == 401
    assert not SupportTicket.objects.exists()


def test_invalid_ticket_fields_are_400_and_nothing_is_kept(client):
    AccountFactory(domain="acme.example")
    response = deliver(client, ticket(priority="whenever"))
    assert response.status_code == 400 and "priority" in response.json()["ticket"]
    assert not InboundWebhookEvent.objects.exists()
    assert deliver(client, {"nope": 1}).status_code == 400


def test_a_ticket_of_an_unknown_organisation_attaches_when_the_account_is_created(client):
    from accounts.imports.services.writes import bulk_upsert

    deliver(client, ticket(organization={"external_id": "acc-7"}, status="new"))
    deliver(client, ticket(organization={"external_id": "acc-7"}, status="solved", updated_at="2024-05-02T10:00:00Z"))
    assert not SupportTicket.objects.exists()
    bulk_upsert(kind="accounts", rows=[{"external_id": "acc-7", "name": "Seven"}])
    t = SupportTicket.objects.get(external_id="Z-1")
    assert (t.account.external_id, t.status) == ("acc-7", "resolved")  # replayed oldest first: latest state wins
    assert set(InboundWebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_a_ticket_matched_by_domain_attaches_when_an_account_gets_that_domain(client):
    from accounts.imports.services.writes import update_one

    deliver(client, ticket(requester={"email": "bo@later.example"}))
    account = AccountFactory(external_id="acc-8")
    assert not SupportTicket.objects.exists()
    update_one(kind="accounts", obj=account, changes={"domain": "later.example"})
    assert SupportTicket.objects.get().account == account


def test_a_group_call_creating_the_account_attaches_its_waiting_tickets(client):
    import base64

    from churnapp.apikeys import api_key_create

    deliver(client, ticket(organization={"external_id": "acc-9"}))
    _, key = api_key_create(name="Segment", scopes=["ingest"])
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    body = json.dumps({"userId": "u1", "groupId": "acc-9", "traits": {"name": "Nine"}})
    assert client.post("/v1/group", body, content_type="application/json", HTTP_AUTHORIZATION=auth).status_code == 200
    assert SupportTicket.objects.get().account.external_id == "acc-9"


def test_rest_ticket_upserts_for_an_unknown_account_are_kept_and_attached_later(client):
    from churnapp.apikeys import api_key_create

    _, key = api_key_create(name="Helpdesk", scopes=["write"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    AccountFactory(external_id="acc-1")
    row = {"account": "acc-new", "subject": "Login fails", "opened_at": "2024-05-01T10:00:00Z", "status": "open"}
    single = client.put("/api/v1/tickets/by-external-id/T-9/", json.dumps(row), content_type="application/json",
                        **headers)  # fmt: skip
    assert single.status_code == 202 and single.json()["status"] == "pending"
    known = {"external_id": "T-10", "account": "acc-1", "subject": "Known", "opened_at": "2024-05-01T10:00:00Z"}
    rows = [{**row, "external_id": "T-9", "status": "pending"}, known]
    bulk = client.post("/api/v1/tickets/bulk/", json.dumps(rows), content_type="application/json", **headers).json()
    assert (bulk["created"], bulk["pending"]) == (1, 1)
    assert [r["action"] for r in bulk["results"]] == ["pending", "created"]
    assert list(SupportTicket.objects.values_list("external_id", flat=True)) == ["T-10"]
    assert InboundWebhookEvent.objects.filter(status="unmatched").count() == 1  # one kept row per ticket id
    put = client.put("/api/v1/accounts/by-external-id/acc-new/", json.dumps({"name": "New"}),
                     content_type="application/json", **headers)  # fmt: skip
    assert put.status_code == 201
    t = SupportTicket.objects.get(external_id="T-9")
    assert (t.account.external_id, t.status, t.subject) == ("acc-new", "pending", "Login fails")


def test_a_kept_rest_ticket_is_superseded_by_a_later_upsert_with_a_known_account(client):
    from accounts.imports.services.writes import bulk_upsert

    row = {"external_id": "T-1", "subject": "Old", "opened_at": "2024-05-01T10:00:00Z"}
    bulk_upsert(kind="tickets", rows=[{**row, "account": "acc-later"}])
    AccountFactory(external_id="acc-1")
    bulk_upsert(kind="tickets", rows=[{**row, "account": "acc-1", "subject": "Current"}])
    bulk_upsert(kind="accounts", rows=[{"external_id": "acc-later"}])
    t = SupportTicket.objects.get()
    assert (t.account.external_id, t.subject) == ("acc-1", "Current")
