"""Every entry door triggers the derived state: events sent to the tracking API under gunicorn (a web process
that never imports the task modules by hand) move the usage rollups through a real worker."""

from __future__ import annotations

import base64
import datetime as dt

import orjson
import pytest
import requests

from churnapp.apikeys import api_key_create
from health.models import UsageDaily
from tests.factories import AccountFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _post_batch(url: str, key: str, messages: list[dict]) -> requests.Response:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    return requests.post(f"{url}/v1/batch", data=orjson.dumps({"batch": messages}), timeout=30,
                         headers={"Authorization": auth, "Content-Type": "application/json"})  # fmt: skip


def test_tracking_api_under_gunicorn_refreshes_rollups_through_the_worker(gunicorn_server, celery_worker_process,
                                                                          wait_for):  # fmt: skip
    account = AccountFactory(external_id="acc-roll")
    _, key = api_key_create(name="Segment", scopes=["ingest"])
    day = dt.date.today() - dt.timedelta(days=1)
    stamp = f"{day.isoformat()}T10:00:00Z"

    def track(n: int, prefix: str) -> dict:
        return {"type": "track", "userId": "u1", "event": "Login", "timestamp": stamp,
                "context": {"groupId": "acc-roll"}, "messageId": f"{prefix}-{n}"}  # fmt: skip

    response = _post_batch(gunicorn_server.url, key, [track(n, "a") for n in range(5)])
    assert response.status_code == 200, response.text

    def events_on_day() -> int:
        row = UsageDaily.objects.filter(account=account, day=day).first()
        return row.events if row else 0

    wait_for(lambda: events_on_day() == 5, timeout=60, message="the rollup of the ingested day")
    assert _post_batch(gunicorn_server.url, key, [track(n, "b") for n in range(3)]).status_code == 200
    wait_for(lambda: events_on_day() == 8, timeout=60, message="the rollup to move with new events")
