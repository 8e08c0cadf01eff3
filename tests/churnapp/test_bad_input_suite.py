"""Bad input over every write endpoint (REST create and bulk for each resource, events bulk, the tracking API):
oversized fields, NUL characters, far-future and far-past dates, wrong encodings, gzip bombs — always a 4xx with
a message, and nothing stored, not even half."""

from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass

import orjson
import pytest
from django.core.cache import cache

from accounts.models import (
    Account,
    Activity,
    Contact,
    PendingMessage,
    Subscription,
    SupportTicket,
    SurveyResponse,
    Tag,
    Task,
    UsageEvent,
)
from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
MODELS = (
    Account,
    Contact,
    Subscription,
    SupportTicket,
    SurveyResponse,
    Activity,
    Task,
    Tag,
    UsageEvent,
    PendingMessage,
)
T = "2024-05-01T12:00:00Z"


@dataclass
class Endpoint:
    name: str
    url: str
    row: dict
    text: str  # a string field of the row
    date: str | None  # a date or date-time field of the row
    date_time: bool = True
    bulk: bool = False
    tracking: bool = False


RESOURCES = [
    ("accounts", {"external_id": "a-new", "name": "New"}, "name", "renewal_date", False),
    ("contacts", {"account": "a-1", "email": "c@example.com", "name": "C"}, "name", None, False),
    ("subscriptions", {"account": "a-1", "product": "pro", "mrr": "10.00", "start_date": "2024-01-01"}, "product",
     "start_date", False),
    ("tickets", {"external_id": "t-1", "account": "a-1", "subject": "S", "opened_at": T}, "subject", "opened_at", True),
    ("survey-responses", {"account": "a-1", "kind": "nps", "score": 9, "responded_at": T, "comment": "ok"}, "comment",
     "responded_at", True),
    ("activities", {"account": "a-1", "body": "b", "subject": "s"}, "subject", "occurred_at", True),
    ("tasks", {"account": "a-1", "title": "T"}, "title", "due_date", False),
    ("tags", {"name": "vip", "color": "red"}, "color", None, False),
]  # fmt: skip
ENDPOINTS = [
    *(Endpoint(f"{n}-create", f"/api/v1/{n}/", row, text, date, dtime) for n, row, text, date, dtime in RESOURCES),
    *(Endpoint(f"{n}-bulk", f"/api/v1/{n}/bulk/", row, text, date, dtime, bulk=True)
      for n, row, text, date, dtime in RESOURCES),
    Endpoint("events-bulk", "/api/v1/events/bulk/", {"account": "a-1", "event_type": "login", "occurred_at": T},
             "event_type", "occurred_at", bulk=True),
    Endpoint("tracking-batch", "/v1/batch", {"type": "track", "userId": "u", "event": "Login", "timestamp": T,
             "context": {"groupId": "a-1"}, "properties": {"p": "v"}}, "event", "timestamp", tracking=True),
    Endpoint("tracking-group", "/v1/batch", {"type": "group", "userId": "u", "groupId": "a-new",
             "traits": {"plan": "pro"}}, "traits.plan", None, tracking=True),
    Endpoint("tracking-identify", "/v1/batch", {"type": "identify", "userId": "u", "traits": {"title": "CEO"}},
             "traits.title", None, tracking=True),
]  # fmt: skip


def _set(row: dict, field: str, value) -> dict:
    row = {**row}
    if "." in field:
        outer, inner = field.split(".", 1)
        row[outer] = {**row[outer], inner: value}
    else:
        row[field] = value
    return row


def _body(endpoint: Endpoint, row: dict) -> bytes:
    if endpoint.tracking:
        return orjson.dumps({"batch": [row]})
    return orjson.dumps([row] if endpoint.bulk else row)


def _far(endpoint: Endpoint, year: str) -> str:
    return f"{year}T00:00:00Z" if endpoint.date_time else year


BAD = {
    "nul": lambda e: _body(e, _set(e.row, e.text, "a\x00b")),
    "oversized-field": lambda e: _body(e, _set(e.row, e.text, "x" * 100_000)),
    "far-future-date": lambda e: _body(e, _set(e.row, e.date, _far(e, "9999-12-31"))) if e.date else None,
    "far-past-date": lambda e: _body(e, _set(e.row, e.date, _far(e, "0001-01-01"))) if e.date else None,
    "not-json": lambda e: b'{"oops": ',
    "not-utf8": lambda e: b'{"name": "\xff\xfe"}',
}
ENCODED = {  # (body, Content-Encoding, expected status)
    "gzip-bomb": (gzip.compress(b"[" + b" " * (25 * 1024 * 1024) + b"]"), "gzip", 413),
    "broken-gzip": (b"\x1f\x8b\x08\x00garbage", "gzip", 400),
    "unknown-encoding": (b"{}", "br", 415),
}


@pytest.fixture(autouse=True)
def _world():
    cache.clear()
    AccountFactory(external_id="a-1")


@pytest.fixture
def headers():
    _, secret = api_key_create(name="admin", scopes=["admin"])
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{secret}:".encode()).decode()}


def _counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def _post(client, endpoint: Endpoint, body: bytes, headers: dict, encoding: str = ""):
    extra = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}
    return client.post(endpoint.url, body, content_type="application/json", **headers, **extra)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_the_valid_row_of_each_endpoint_is_stored(client, headers, endpoint):
    before = _counts()
    response = _post(client, endpoint, _body(endpoint, endpoint.row), headers)
    assert response.status_code in (200, 201), response.content
    assert _counts() != before


CASES = [(e, kind) for e in ENDPOINTS for kind in BAD if BAD[kind](e) is not None]  # date cases need a date field


@pytest.mark.parametrize(("endpoint", "kind"), CASES, ids=[f"{e.name}-{kind}" for e, kind in CASES])
def test_bad_input_is_a_4xx_with_a_message_and_nothing_is_stored(client, headers, endpoint, kind):
    body = BAD[kind](endpoint)
    before = _counts()
    response = _post(client, endpoint, body, headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response.json()
    assert _counts() == before


@pytest.mark.parametrize("kind", list(ENCODED))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_wrong_encodings_and_gzip_bombs_are_refused(client, headers, endpoint, kind):
    body, encoding, code = ENCODED[kind]
    before = _counts()
    response = _post(client, endpoint, body, headers, encoding)
    assert response.status_code == code, response.content[:300]
    assert "detail" in response.json()
    assert _counts() == before
