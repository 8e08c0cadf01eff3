from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.core.cache import cache

from accounts.api.base import MAX_BODY_BYTES
from accounts.models import Account, Contact, Subscription, SupportTicket, SurveyResponse, Tag, Task, UsageEvent
from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, SupportTicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()


def key_headers(*scopes: str) -> dict:
    _, secret = api_key_create(name="-".join(scopes), scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post(client, url, body, **headers):
    return client.post(url, orjson.dumps(body), content_type="application/json", **headers)


def put(client, url, body, **headers):
    return client.put(url, orjson.dumps(body), content_type="application/json", **headers)


LIST_ENDPOINTS = [
    "accounts",
    "contacts",
    "subscriptions",
    "events",
    "tickets",
    "survey-responses",
    "activities",
    "tasks",
    "tags",
]


@pytest.mark.parametrize("endpoint", LIST_ENDPOINTS)
@pytest.mark.parametrize(
    ("scopes", "can_read", "can_write", "can_bulk"),
    [
        (("read",), True, False, False),
        (("write",), False, True, True),
        (("ingest",), False, False, False),  # ingest reaches event ingestion only (below)
        (("admin",), True, True, True),
        (("read", "write"), True, True, True),
    ],
)
def test_scope_by_endpoint_permission_matrix(client, endpoint, scopes, can_read, can_write, can_bulk):
    headers = key_headers(*scopes)
    assert (client.get(f"/api/v1/{endpoint}/", **headers).status_code == 200) is can_read
    # An empty body is invalid: 400 means the key was allowed through, 403 that it was not.
    if endpoint != "events":
        assert post(client, f"/api/v1/{endpoint}/", {}, **headers).status_code == (400 if can_write else 403)
    can_bulk = can_bulk or (endpoint == "events" and "ingest" in scopes)
    assert post(client, f"/api/v1/{endpoint}/bulk/", [], **headers).status_code == (200 if can_bulk else 403)


def test_upsert_by_external_id_creates_then_updates_then_is_unchanged(client):
    headers = key_headers("read", "write")
    body = {"name": "Acme", "plan": "pro", "segment": "enterprise", "custom_attributes": {"region": "eu"}}
    first = put(client, "/api/v1/accounts/by-external-id/acme-1/", body, **headers)
    assert first.status_code == 201, first.json()
    assert first.json()["external_id"] == "acme-1"
    second = put(
        client,
        "/api/v1/accounts/by-external-id/acme-1/",
        {"plan": "enterprise", "custom_attributes": {"size": 5}},
        **headers,
    )  # noqa: E501
    assert second.status_code == 200
    account = Account.objects.get(external_id="acme-1")
    assert account.plan == "enterprise" and account.name == "Acme"
    assert account.custom_attributes == {"region": "eu", "size": 5}
    again = put(client, "/api/v1/accounts/by-external-id/acme-1/", {"plan": "enterprise"}, **headers)
    assert again.status_code == 200
    assert Account.objects.count() == 1


def test_bulk_upsert_is_idempotent(client):
    account = AccountFactory(external_id="a-1")
    headers = key_headers("write")
    rows = [
        {
            "account": "a-1",
            "product": "growth",
            "mrr": "100.00",
            "start_date": "2024-01-01",
            "billing_period": "annual",
        },
        {"account": "a-1", "product": "sms-addon", "mrr": "20", "start_date": "2024-01-01", "quantity": 3},
    ]
    first = post(client, "/api/v1/subscriptions/bulk/", rows, **headers).json()
    assert (first["created"], first["updated"], first["unchanged"]) == (2, 0, 0)
    second = post(client, "/api/v1/subscriptions/bulk/", {"rows": rows}, **headers).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 2)
    assert Subscription.objects.filter(account=account).count() == 2
    assert Subscription.objects.get(product="growth").billing_period == 12


def test_bulk_with_one_bad_row_writes_nothing_and_reports_each_row(client):
    AccountFactory(external_id="a-1")
    headers = key_headers("write")
    rows = [
        {"external_id": "c-1", "account": "a-1", "email": "ana@example.com"},
        {"external_id": "c-2", "account": "nope", "email": "bob@example.com"},
        {"external_id": "c-3", "account": "a-1", "email": "not-an-email"},
        {"external_id": "c-1", "account": "a-1", "email": "dup@example.com"},
        "not an object",
    ]
    response = post(client, "/api/v1/contacts/bulk/", rows, **headers)
    assert response.status_code == 400
    errors = {e["index"]: e["errors"] for e in response.json()["errors"]}
    assert set(errors) == {1, 2, 3, 4}
    assert "Unknown account" in errors[1]["account"][0]
    assert "email" in errors[2]
    assert "Duplicate of row 0" in errors[3]["external_id"][0]
    assert not Contact.objects.exists()


def test_bulk_over_1000_rows_is_refused(client):
    headers = key_headers("write")
    response = post(client, "/api/v1/tags/bulk/", [{"name": f"t{i}"} for i in range(1001)], **headers)
    assert response.status_code == 400
    assert not Tag.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{not json", "application/json"), (b"\xff\xfe{}", "application/json"), (b"[1, 2", "application/json")],
)
def test_malformed_bodies_are_400(client, body, content_type):
    headers = key_headers("write")
    response = client.post("/api/v1/accounts/", body, content_type=content_type, **headers)
    assert response.status_code == 400
    assert "detail" in response.json()


def test_oversized_body_is_413(client):
    headers = key_headers("write")
    body = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = client.post("/api/v1/accounts/", body, content_type="application/json", **headers)
    assert response.status_code == 413


def test_wrong_types_get_a_message_per_field(client):
    headers = key_headers("write")
    response = post(
        client,
        "/api/v1/subscriptions/",
        {"account": 5, "product": "", "mrr": "-3", "start_date": "2024-02-01", "end_date": "2024-01-01"},
        **headers,
    )
    assert response.status_code == 400
    assert {"product", "mrr"} <= set(response.json())


def test_end_date_must_follow_start_date(client):
    AccountFactory(external_id="a-1")
    response = post(
        client,
        "/api/v1/subscriptions/",
        {"account": "a-1", "product": "p", "mrr": "1", "start_date": "2024-02-01", "end_date": "2024-02-01"},
        **key_headers("write"),
    )
    assert response.status_code == 400
    assert "end_date" in response.json()


def test_patch_updates_only_given_fields_and_delete_removes(client):
    ticket = SupportTicketFactory(subject="Export broken", priority="high")
    headers = key_headers("read", "write")
    response = client.patch(
        f"/api/v1/tickets/{ticket.pk}/", orjson.dumps({"status": "resolved"}), content_type="application/json",
        **headers,
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.subject) == ("resolved", "high", "Export broken")
    assert client.delete(f"/api/v1/tickets/{ticket.pk}/", **headers).status_code == 204
    assert not SupportTicket.objects.exists()


def test_survey_responses_resolve_the_contact_and_check_score_ranges(client):
    account = AccountFactory(external_id="a-1")
    contact = ContactFactory(account=account, email="ana@example.com")
    headers = key_headers("write")
    ok = post(
        client,
        "/api/v1/survey-responses/",
        {
            "account": "a-1",
            "contact_email": "ANA@example.com",
            "kind": "nps",
            "score": 9,
            "responded_at": "2024-03-01T10:00:00Z",
        },  # noqa: E501
        **headers,
    )
    assert ok.status_code == 201, ok.json()
    assert SurveyResponse.objects.get().contact == contact
    bad = post(
        client,
        "/api/v1/survey-responses/",
        {"account": "a-1", "kind": "csat", "score": 9, "responded_at": "2024-03-01T10:00:00Z"},
        **headers,
    )
    assert bad.status_code == 400 and "score" in bad.json()


def test_task_created_over_the_api_goes_to_the_account_owner(client, csm):
    AccountFactory(external_id="a-1", owner=csm)
    response = post(client, "/api/v1/tasks/", {"account": "a-1", "title": "Call about renewal"}, **key_headers("write"))
    assert response.status_code == 201
    assert Task.objects.get().assignee == csm


def test_csm_session_writes_only_on_own_accounts(client, csm, own_account, other_account):
    client.force_login(csm)
    mine = post(client, "/api/v1/contacts/", {"account": own_account.external_id, "email": "x@own.example"})
    assert mine.status_code == 201
    theirs = post(client, "/api/v1/contacts/", {"account": other_account.external_id, "email": "x@other.example"})
    assert theirs.status_code == 403
    assert Contact.objects.count() == 1


def test_viewer_session_cannot_write(client, viewer, own_account):
    client.force_login(viewer)
    assert post(client, "/api/v1/contacts/", {"account": own_account.external_id}).status_code == 403


def test_events_bulk_deduplicates_and_moves_last_seen(client):
    account = AccountFactory(external_id="a-1")
    headers = key_headers("ingest")
    t = "2024-05-01T12:00:00Z"
    rows = [
        {"account": "a-1", "event_type": "login", "occurred_at": t, "user_id": "u1"},
        {"account": "a-1", "event_type": "export", "occurred_at": "2024-05-02T08:00:00Z", "message_id": "m-1"},
    ]
    first = post(client, "/api/v1/events/bulk/", rows, **headers).json()
    second = post(client, "/api/v1/events/bulk/", rows, **headers).json()
    assert (first["created"], second["created"], second["unchanged"]) == (2, 0, 2)
    assert UsageEvent.objects.filter(account=account).count() == 2
    account.refresh_from_db()
    assert account.last_seen_at == dt.datetime(2024, 5, 2, 8, tzinfo=dt.UTC)


def test_events_bulk_reports_unknown_accounts_and_writes_nothing(client):
    AccountFactory(external_id="a-1")
    rows = [
        {"account": "a-1", "event_type": "login", "occurred_at": "2024-05-01T12:00:00Z"},
        {"account": "ghost", "event_type": "login", "occurred_at": "2024-05-01T12:00:00Z"},
    ]
    response = post(client, "/api/v1/events/bulk/", rows, **key_headers("ingest"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1
    assert not UsageEvent.objects.exists()


def test_account_tags_and_owner_by_email(client, csm):
    headers = key_headers("read", "write")
    response = put(
        client,
        "/api/v1/accounts/by-external-id/a-9/",
        {"name": "Nine", "owner_email": csm.email, "tags": ["champion", "upsell"]},
        **headers,
    )
    assert response.status_code == 201, response.json()
    assert response.json()["owner"] == csm.email
    assert sorted(response.json()["tags"]) == ["champion", "upsell"]
    unknown = put(client, "/api/v1/accounts/by-external-id/a-9/", {"owner_email": "nobody@x.example"}, **headers)
    assert unknown.status_code == 400 and "owner_email" in unknown.json()


def test_child_lists_have_a_fixed_query_count(client, viewer, django_assert_max_num_queries):
    for account in AccountFactory.create_batch(5):
        SubscriptionFactory.create_batch(3, account=account)
        ContactFactory.create_batch(2, account=account)
    client.force_login(viewer)
    for endpoint in ("subscriptions", "contacts", "events", "tickets", "survey-responses", "tasks", "activities"):
        with django_assert_max_num_queries(8):
            assert client.get(f"/api/v1/{endpoint}/").status_code == 200


def test_owner_me_filter_with_an_api_key_is_empty_not_an_error(client, csm):
    AccountFactory(owner=csm)
    response = client.get("/api/v1/accounts/", {"owner": "me"}, **key_headers("read"))
    assert response.status_code == 200 and response.json()["count"] == 0


def test_unknown_ids_and_paths_under_the_api_answer_json_404(client):
    headers = key_headers("admin")
    for url in ("/api/v1/contacts/1.5e-3/", "/api/v1/accounts/999/", "/api/v1/nothing-here/"):
        response = client.get(url, **headers)
        assert response.status_code == 404 and response["Content-Type"] == "application/json", url


def test_options_describes_without_touching_objects(client):
    response = client.options("/api/v1/contacts/by-external-id/x/", **key_headers("admin"))
    assert response.status_code == 200
