"""The named Celery queues, so each kind of work can get its own workers."""

from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    """Named queues so each kind of work can get its own workers."""

    DEFAULT = "default"
    INGEST = "ingest"
    SCORING = "scoring"
    EMAIL = "email"
