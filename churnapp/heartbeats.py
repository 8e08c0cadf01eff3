"""Heartbeats of the background components and the dependency checks of /healthz/."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from churnapp.celery import Queue
from churnapp.models import ServiceHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 30  # seconds between heartbeat tasks (per queue), scheduled by beat
STALE_AFTER = 3 * HEARTBEAT_INTERVAL
_last_beat_write = 0.0


def heartbeat_record(*, name: str, at: dt.datetime | None = None) -> None:
    ServiceHeartbeat.objects.update_or_create(name=name, defaults={"beat_at": at or timezone.now()})


def beat_published() -> None:
    """Called in the beat process each time it publishes a task; writes at most every 10 seconds."""
    global _last_beat_write
    if time.monotonic() - _last_beat_write < 10:
        return
    _last_beat_write = time.monotonic()
    try:
        heartbeat_record(name="beat")
    except Exception:  # noqa: BLE001 — a health signal must never stop the scheduler
        logger.warning("Could not record beat's heartbeat.", exc_info=True)


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
    from churnapp.celery import app

    try:
        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            import redis

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
