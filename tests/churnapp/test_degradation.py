"""Graceful degradation: with Redis away ingestion keeps accepting, dependency failures answer a JSON 503 with
Retry-After, and /healthz/ reports every dependency."""

from __future__ import annotations

import base64
import datetime as dt
import socket

import orjson
import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import UsageEvent
from churnapp.apikeys import api_key_create
from churnapp.heartbeats import heartbeat_record
from churnapp.queues import Queue
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def post_batch(client, key: str, n: int = 3):
    body = {"batch": [{"type": "track", "userId": "u", "event": "Login", "context": {"groupId": "a-1"},
                       "messageId": f"m-{i}"} for i in range(n)]}  # fmt: skip
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    return client.post("/v1/batch", orjson.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth)


def test_with_the_cache_down_the_throttle_fails_open_and_ingestion_accepts(client, settings, caplog):
    AccountFactory(external_id="a-1")
    _, key = api_key_create(name="k", scopes=["ingest"])
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}  # fmt: skip
    response = post_batch(client, key)
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 3
    assert UsageEvent.objects.count() == 3
    assert "API-key throttling is off" in caplog.text


def test_a_broker_failure_answers_json_503_with_retry_after(client, monkeypatch):
    from kombu.exceptions import OperationalError

    cache.clear()
    AccountFactory(external_id="a-1")
    _, key = api_key_create(name="k", scopes=["ingest"])

    def broker_down(**kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr("accounts.api.tracking.tracking_ingest", broker_down)
    response = post_batch(client, key)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "30"
    assert "unavailable" in response.json()["detail"]


def _all_alive(at=None):
    for queue in Queue:
        heartbeat_record(name=f"worker:{queue.value}", at=at)
    heartbeat_record(name="beat", at=at)


def test_healthz_reports_each_dependency(client):
    _all_alive()
    response = client.get("/healthz/")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok", data
    assert set(data["checks"]) == {"database", "broker", "cache", "workers", "beat"}
    assert set(data["checks"]["workers"]) == {"default", "ingest", "scoring", "email"}
    assert data["checks"]["beat"]["status"] == "ok"


def test_healthz_is_degraded_not_down_when_a_worker_or_the_broker_is_away(client, settings):
    _all_alive()
    heartbeat_record(name="worker:email", at=timezone.now() - dt.timedelta(minutes=10))
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/healthz/")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "degraded"
    assert data["checks"]["workers"]["email"]["status"] == "stale"
    assert data["checks"]["broker"]["status"] == "down"
    assert data["checks"]["database"]["status"] == "ok"


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from django.db import OperationalError, connection

    def down(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(connection, "cursor", down)
    response = client.get("/healthz/")
    assert response.status_code == 503
    data = response.json()
    assert (data["status"], data["checks"]["database"]["status"]) == ("down", "down")
    assert data["checks"]["beat"]["status"] == "unknown"


def test_the_heartbeat_task_and_beat_record_their_time():
    from churnapp import heartbeats
    from churnapp.models import ServiceHeartbeat
    from churnapp.tasks import heartbeat

    heartbeat.delay("ingest")
    heartbeats._last_beat_write = 0.0
    heartbeats.beat_published()
    assert set(ServiceHeartbeat.objects.values_list("name", flat=True)) == {"worker:ingest", "beat"}
