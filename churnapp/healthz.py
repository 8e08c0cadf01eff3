"""The dependency checks of /healthz/: database, broker, cache, and the age of each background component's
last heartbeat (`churnapp.heartbeats`)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from churnapp.celery import app
from churnapp.heartbeats import STALE_AFTER
from churnapp.models import ServiceHeartbeat
from churnapp.queues import Queue


def _age(at: dt.datetime | None, now: dt.datetime) -> dict:
    if at is None:
        return {"status": "unknown", "last_seen": None}
    age = (now - at).total_seconds()
    return {"status": "ok" if age <= STALE_AFTER else "stale", "last_seen": at.isoformat(), "age_s": round(age)}


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 — reported, not raised
        return {"status": "down", "error": str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "error"}
    return {"status": "ok"}


def _check_broker() -> dict:
    try:
        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            import redis  # only with a Redis broker (the embedded default needs none)

            client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)
            client.ping()
            client.close()
        else:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, timeout=1)
    except Exception as exc:  # noqa: BLE001 — reported, not raised
        return {"status": "down", "error": str(exc)[:200]}
    return {"status": "ok"}


def _check_cache() -> dict:
    try:
        cache.set("healthz-probe", 1, 10)
        if cache.get("healthz-probe") != 1:
            return {"status": "down", "error": "read back nothing"}
    except Exception as exc:  # noqa: BLE001 — reported, not raised
        return {"status": "down", "error": str(exc)[:200]}
    return {"status": "ok"}


def health_report() -> tuple[dict, bool]:
    """(report, healthy): each dependency with its status; healthy is False only when a critical one (the
    database, without which nothing is accepted) is down. Broker, cache, workers and beat degrade the service:
    ingestion keeps accepting while they are away."""
    now = timezone.now()
    checks: dict[str, dict] = {"database": _check_database(), "broker": _check_broker(), "cache": _check_cache()}
    beats: dict[str, dt.datetime] = {}
    if checks["database"]["status"] == "ok":
        beats = dict(ServiceHeartbeat.objects.values_list("name", "beat_at"))
    checks["workers"] = {q.value: _age(beats.get(f"worker:{q.value}"), now) for q in Queue}
    checks["beat"] = _age(beats.get("beat"), now)
    healthy = checks["database"]["status"] == "ok"
    flat = [checks["database"], checks["broker"], checks["cache"], checks["beat"], *checks["workers"].values()]
    status = "down" if not healthy else "ok" if all(c["status"] == "ok" for c in flat) else "degraded"
    return {"status": status, "checks": checks}, healthy
