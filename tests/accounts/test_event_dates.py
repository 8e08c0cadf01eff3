"""Event times far in the future or past are refused per row, with the same bounds on every event path."""

from __future__ import annotations

import base64

import orjson
import pytest
from django.core.cache import cache

from accounts.imports.chunks import parse_event
from accounts.models import UsageEvent
from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

BAD_TIMES = ["9999-12-31T00:00:00Z", "9000-01-02T00:00:00Z", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
             "9999-12-31T23:59:59-05:00"]  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()


@pytest.mark.parametrize("when", BAD_TIMES)
def test_rest_bulk_refuses_far_dates_per_row_and_writes_nothing(client, when):
    AccountFactory(external_id="a-1")
    _, key = api_key_create(name="k", scopes=["ingest"])
    rows = [{"account": "a-1", "event_type": "login", "occurred_at": "2024-05-01T12:00:00Z"},
            {"account": "a-1", "event_type": "login", "occurred_at": when}]  # fmt: skip
    response = client.post("/api/v1/events/bulk/", orjson.dumps(rows), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {key}")  # fmt: skip
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["index"] for e in errors] == [1]
    assert "occurred_at" in errors[0]["errors"]
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize("when", BAD_TIMES)
def test_import_refuses_far_dates_per_row(when):
    with pytest.raises(ValueError, match="out of range"):
        parse_event({"account_id": "a-1", "event_type": "login", "event_time": when})


@pytest.mark.parametrize("when", BAD_TIMES)
def test_tracking_refuses_far_dates_per_message(client, when):
    AccountFactory(external_id="a-1")
    _, key = api_key_create(name="k", scopes=["ingest"])
    body = {"batch": [{"type": "track", "userId": "u", "event": "Login", "context": {"groupId": "a-1"}},
                      {"type": "track", "userId": "u", "event": "Login", "context": {"groupId": "a-1"},
                       "timestamp": when}]}  # fmt: skip
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    response = client.post("/v1/batch", orjson.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=auth)  # fmt: skip
    data = response.json()
    assert (response.status_code, data["stored"]) == (200, 1)
    assert [e["index"] for e in data["errors"]] == [1]
    assert "out of range" in data["errors"][0]["reason"]


def test_the_bounds_are_inclusive_and_shared():
    AccountFactory(external_id="a-1")
    assert parse_event({"account_id": "a-1", "event_type": "x", "event_time": "9000-01-01T00:00:00Z"})
    assert parse_event({"account_id": "a-1", "event_type": "x", "event_time": "1970-01-01T00:00:00Z"})
