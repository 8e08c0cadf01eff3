"""Celery tasks of the automations app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from automations import emails, notifications


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90)
def send_email(message_id: int) -> str:
    """Send one queued email (idempotent: a claimed or sent message is skipped); retries transient failures."""
    outcome = emails.email_send(message_id=message_id)
    if outcome == "retry":
        send_email.apply_async((message_id,), queue="email", countdown=60)
    return outcome


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True, soft_time_limit=120)
def requeue_stale_emails() -> int:
    """Periodic recovery sweep for emails whose send task was lost."""
    return emails.email_requeue_stale()


@shared_task(
    autoretry_for=(RuntimeError, OSError), retry_backoff=True, max_retries=5, acks_late=True, soft_time_limit=30
)
def post_to_slack(text: str) -> int:
    return notifications.slack_post(text=text)
