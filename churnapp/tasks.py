"""Celery tasks of the project layer: the worker heartbeat."""

from __future__ import annotations

from celery import shared_task

from churnapp.heartbeats import heartbeat_record


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30)
def heartbeat(queue: str) -> None:
    """Scheduled by beat on every queue: proves a worker consumes it (read by /healthz/)."""
    heartbeat_record(name=f"worker:{queue}")
