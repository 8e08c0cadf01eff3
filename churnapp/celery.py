"""The Celery application: configuration from Django settings (CELERY_*), tasks from every app."""

from __future__ import annotations

import os
from enum import StrEnum

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "churnapp.settings")


class Queue(StrEnum):
    """Named queues so each kind of work can get its own workers."""

    DEFAULT = "default"
    INGEST = "ingest"
    SCORING = "scoring"
    EMAIL = "email"


app = Celery("churnapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = Queue.DEFAULT.value
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _load_beat_schedule(sender: Celery, **kwargs) -> None:
    from churnapp.schedule import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE
