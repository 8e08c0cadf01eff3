"""The Celery application: configuration from Django settings (CELERY_*), tasks from every app."""

from __future__ import annotations

import os

from celery import Celery, signals

from churnapp.queues import Queue
from churnapp.redelivery import UnackedRefresher

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "churnapp.settings")


app = Celery("churnapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = Queue.DEFAULT.value
app.autodiscover_tasks()
app.steps["consumer"].add(UnackedRefresher)


@app.on_after_finalize.connect
def _load_beat_schedule(sender: Celery, **kwargs) -> None:
    from churnapp.schedule import BEAT_SCHEDULE  # reads Django settings: loaded once the app is finalized

    sender.conf.beat_schedule = BEAT_SCHEDULE


_in_beat = False


@signals.beat_init.connect
@signals.beat_embedded_init.connect
def _mark_beat_process(sender=None, **kwargs) -> None:
    global _in_beat
    _in_beat = True


@signals.before_task_publish.connect
def _record_beat_heartbeat(sender=None, **kwargs) -> None:
    """In the beat process, each published task is a sign of life (throttled); /healthz/ reports its age."""
    if _in_beat:
        from churnapp.heartbeats import beat_published  # its model needs the app registry, not ready at import

        beat_published()
