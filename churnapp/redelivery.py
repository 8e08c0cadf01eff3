"""Redelivery within a minute on Redis: a killed worker's messages come back after the (short) visibility timeout,
while the messages a live worker holds — running, prefetched or waiting for their ETA — never do.

Kombu's Redis transport keeps every delivered, unacknowledged message in a sorted set scored by its delivery
time, and any worker re-queues those older than `visibility_timeout`. A short timeout alone would re-run every task
that lasts longer than it; so each worker refreshes the score of the messages it holds every
`REFRESH_SECONDS` from a thread of its own (it keeps going while a solo-pool task blocks the main loop). A worker
that dies stops refreshing, and its messages are redelivered `visibility_timeout` (+ one restore sweep) later.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import bootsteps

logger = logging.getLogger(__name__)

VISIBILITY_TIMEOUT = 45  # seconds; + a 5 s restore sweep: redelivered ≤ 50 s after a worker dies
RESTORE_INTERVAL = 5
REFRESH_SECONDS = 10


class UnackedRefresher(bootsteps.StartStopStep):
    """Consumer step: keep the messages this worker holds invisible to the restore sweep while it lives."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, c, **kwargs):
        super().__init__(c, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, c) -> None:
        channel = c.task_consumer.channel
        if not hasattr(channel, "unacked_index_key"):  # not the Redis transport
            return
        import redis  # only with a Redis broker (the embedded default needs none)

        key = getattr(channel, "global_keyprefix", "") + channel.unacked_index_key
        client = redis.Redis.from_url(c.app.conf.broker_url, socket_timeout=5, socket_connect_timeout=2)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(channel.qos, client, key), name="unacked-refresher", daemon=True
        )
        self._thread.start()

    def stop(self, c) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=REFRESH_SECONDS + 5)
            self._thread = None

    shutdown = stop

    def _run(self, qos, client, key: str) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            try:
                tags = list(qos._delivered)  # delivered and not yet acknowledged by this worker
            except RuntimeError:  # changed while copied: next round
                continue
            if not tags:
                continue
            try:
                # XX: only messages still held (an acknowledged or already restored one is never re-added).
                client.zadd(key, dict.fromkeys(tags, time.time()), xx=True)
            except Exception as exc:  # noqa: BLE001 — the broker may be away; the next round retries
                logger.warning("Could not refresh %d unacknowledged messages: %s", len(tags), exc)
