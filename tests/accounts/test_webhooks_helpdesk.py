from __future__ import annotations

import json
import time

import pytest

from accounts.models import InboundWebhookEvent, SupportTicket
from accounts.webhooks import helpdesk_signature
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
