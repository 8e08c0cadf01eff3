"""API-key scopes mean what they say: `ingest` reaches the tracking API and event ingestion, nothing else."""

from __future__ import annotations

import base64

import orjson
import pytest
from django.core.cache import cache

from accounts.models import Contact, Subscription
from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

CRM_ROWS = {
    "accounts": {"external_id": "a-1", "name": "Evil", "status": "churned"},
    "contacts": {"external_id": "c-1", "account": "a-1", "email": "x@evil.example", "unsubscribed": True},
    "subscriptions": {"external_id": "s-1", "account": "a-1", "product": "pro", "mrr": "0", "start_date": "2024-01-01"},
    "tickets": {"external_id": "t-1", "account": "a-1", "subject": "Hi", "opened_at": "2024-05-01T10:00:00Z"},
    "survey-responses": {"account": "a-1", "kind": "nps", "score": 0, "responded_at": "2024-05-01T10:00:00Z"},
    "tasks": {"account": "a-1", "title": "Call"},
    "activities": {"account": "a-1", "kind": "note", "body": "Hello"},
    "tags": {"name": "vip"},
}


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()


def key(*scopes: str) -> dict:
    _, secret = api_key_create(name="-".join(scopes), scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post(client, url, body, **headers):
    return client.post(url, orjson.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def account():
    return AccountFactory(external_id="a-1", name="Acme", status="active")


@pytest.mark.parametrize("endpoint", list(CRM_ROWS))
def test_ingest_key_cannot_sync_crm_data_in_bulk(client, account, endpoint):
    response = post(client, f"/api/v1/{endpoint}/bulk/", [CRM_ROWS[endpoint]], **key("ingest"))
    assert response.status_code == 403
    account.refresh_from_db()
    assert (account.name, account.status) == ("Acme", "active")
    assert not Contact.objects.exists() and not Subscription.objects.exists()


@pytest.mark.parametrize("endpoint", ["accounts", "contacts", "subscriptions", "tickets"])
def test_ingest_key_cannot_upsert_by_external_id(client, account, endpoint):
    row = dict(CRM_ROWS[endpoint])
    external_id = row.pop("external_id")
    response = client.put(
        f"/api/v1/{endpoint}/by-external-id/{external_id}/",
        orjson.dumps(row),
        content_type="application/json",
        **key("ingest"),
    )
    assert response.status_code == 403


def test_ingest_key_cannot_change_a_subscriptions_mrr(client, account):
    subscription = SubscriptionFactory(account=account, external_id="s-1")
    response = post(client, "/api/v1/subscriptions/", CRM_ROWS["subscriptions"], **key("ingest"))
    assert response.status_code == 403
    subscription.refresh_from_db()
    assert subscription.mrr == 100


@pytest.mark.parametrize("endpoint", list(CRM_ROWS))
def test_write_key_syncs_crm_data_in_bulk(client, account, endpoint):
    response = post(client, f"/api/v1/{endpoint}/bulk/", [CRM_ROWS[endpoint]], **key("write"))
    assert response.status_code == 200, response.json()


def test_ingest_key_reaches_event_ingestion_and_the_tracking_api(client, account):
    headers = key("ingest")
    rows = [{"account": "a-1", "event_type": "login", "occurred_at": "2024-05-01T12:00:00Z"}]
    assert post(client, "/api/v1/events/bulk/", rows, **headers).status_code == 200
    raw = headers["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    basic = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}
    body = {"batch": [{"type": "track", "userId": "u1", "event": "login", "context": {"groupId": "a-1"}}]}
    assert post(client, "/v1/batch", body, **basic).status_code == 200


def test_write_key_without_ingest_cannot_use_the_tracking_api(client, account):
    body = {"batch": [{"type": "track", "userId": "u1", "event": "login"}]}
    assert post(client, "/v1/batch", body, **key("write")).status_code == 403


def test_scopes_are_documented_in_the_api_schema(client, admin_user):
    client.force_login(admin_user)
    schema = client.get("/api/schema/?format=json").json()
    description = schema["info"]["description"]
    assert "`ingest` reaches only the tracking API" in description
    assert "CRM and helpdesk sync" in description
