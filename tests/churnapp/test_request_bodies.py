"""Request bodies on the REST API: NUL characters are a 400 per field, gzip is decoded (bounded), other encodings
are a 415 — never a 500 nor a misleading "Malformed JSON"."""

from __future__ import annotations

import gzip

import orjson
import pytest
from django.core.cache import cache

from accounts.models import Account, UsageEvent
from churnapp.apikeys import api_key_create
from churnapp.parsers import NUL_MESSAGE
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()


@pytest.fixture
def auth():
    _, secret = api_key_create(name="admin", scopes=["admin"])
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def send(client, method, url, body, auth, *, raw: bytes | None = None, **extra):
    data = raw if raw is not None else orjson.dumps(body)
    return getattr(client, method)(url, data, content_type="application/json", **auth, **extra)


@pytest.mark.parametrize(
    ("attributes", "field"),
    [({"note": "a\x00b"}, "custom_attributes.note"), ({"k\x00": "v"}, "custom_attributes.k\\u0000")],
)
def test_nul_in_custom_attributes_is_a_400_naming_the_field(client, auth, attributes, field):
    response = send(client, "put", "/api/v1/accounts/by-external-id/a-1/", {"custom_attributes": attributes}, auth)
    assert response.status_code == 400
    assert response.json() == {field: [NUL_MESSAGE]}
    assert not Account.objects.exists()


def test_nul_in_event_properties_is_a_400_and_nothing_is_stored(client, auth):
    AccountFactory(external_id="a-1")
    rows = [{"account": "a-1", "event_type": "login", "occurred_at": "2024-05-01T12:00:00Z"},
            {"account": "a-1", "event_type": "login", "occurred_at": "2024-05-01T12:00:00Z",
             "properties": {"path": "/x\x00"}}]  # fmt: skip
    response = send(client, "post", "/api/v1/events/bulk/", rows, auth)
    assert response.status_code == 400
    assert response.json() == {"1.properties.path": [NUL_MESSAGE]}
    assert not UsageEvent.objects.exists()


def test_nul_is_refused_by_the_shared_row_validation_too():
    """Imports and the REST API share the row validation: a NUL reaching it is a per-field error."""
    from accounts.imports.services.rows import rows_validate

    valid, errors = rows_validate(kind="accounts", rows=[(0, {"external_id": "a", "custom_attributes": {"x": "\x00"}})])
    assert valid == []
    assert errors == [{"index": 0, "errors": {"custom_attributes.x": [NUL_MESSAGE]}}]


def test_nul_on_another_apps_endpoint_is_a_400_per_field(client, auth):
    AccountFactory(external_id="a-1")
    body = {"account": "a-1", "type": "voluntary", "comment": "bye\x00"}
    response = send(client, "post", "/api/v1/winback/churn-records/", body, auth)
    assert response.status_code == 400
    assert response.json() == {"comment": [NUL_MESSAGE]}


def test_an_escaped_backslash_before_u0000_is_not_a_nul(client, auth):
    response = send(client, "put", "/api/v1/accounts/by-external-id/a-1/", {"name": "C:\\u0000dir"}, auth)
    assert response.status_code == 201
    assert Account.objects.get().name == "C:\\u0000dir"


def test_gzip_bodies_are_decoded_on_the_rest_api(client, auth):
    AccountFactory(external_id="a-1")
    rows = [{"account": "a-1", "event_type": "login", "occurred_at": f"2024-05-01T12:{i:02d}:00Z"} for i in range(3)]
    response = send(client, "post", "/api/v1/events/bulk/", None, auth, raw=gzip.compress(orjson.dumps(rows)),
                    HTTP_CONTENT_ENCODING="gzip")  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 3


def test_a_gzip_bomb_is_a_413(client, auth):
    bomb = gzip.compress(b"[" + b" " * (25 * 1024 * 1024) + b"]")
    response = send(client, "post", "/api/v1/events/bulk/", None, auth, raw=bomb, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    assert "Decompressed body" in response.json()["detail"]


@pytest.mark.parametrize(
    ("raw", "encoding", "code"),
    [(b"not gzip", "gzip", 400), (gzip.compress(b'{"name": "x"}')[:-12], "gzip", 400), (b"{}", "br", 415),
     (b'{"name": "\xff"}', "", 400)],
    ids=["broken-gzip", "truncated-gzip", "brotli", "not-utf8"],
)  # fmt: skip
def test_undecodable_bodies_are_clear_4xx(client, auth, raw, encoding, code):
    extra = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}
    response = send(client, "put", "/api/v1/accounts/by-external-id/a-1/", None, auth, raw=raw, **extra)
    assert response.status_code == code
    assert "detail" in response.json()
    assert not Account.objects.exists()
