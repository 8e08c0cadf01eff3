"""Heartbeats of the background components: the beat process and each queue's workers record when they last
proved alive (read by `churnapp.healthz`)."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.utils import timezone

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
