"""Celery tasks of the project layer: outgoing webhook deliveries."""

from __future__ import annotations

from celery import shared_task

from churnapp import webhooks_out
from churnapp.models import WebhookDelivery


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt; schedules the next one with exponential backoff until MAX_ATTEMPTS (idempotent)."""
    outcome = webhooks_out.delivery_attempt(delivery_id=delivery_id)
    if outcome == "retry":
        attempts = WebhookDelivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
        deliver_webhook.apply_async((delivery_id,), countdown=webhooks_out.retry_delay(attempts))
    return outcome


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30)
def heartbeat(queue: str) -> None:
    """Scheduled by beat on every queue: proves a worker consumes it (read by /healthz/)."""
    from churnapp.heartbeats import heartbeat_record

    heartbeat_record(name=f"worker:{queue}")
