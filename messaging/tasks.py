"""Celery tasks of the messaging app: thin wrappers around its services, and the hooks that queue them.

Services never import this module: they announce what they queued through `churnapp.hooks` (`EMAILS_QUEUED`,
`WEBHOOKS_QUEUED`, `SLACK_QUEUED`), and `MessagingConfig.ready()` registers the `*_enqueue` hooks below, which run
after the commit of the transaction that queued the rows.
"""

from __future__ import annotations

from celery import shared_task

from churnapp.taskpolicy import ACKS_LATE, RETRY_ON_DATABASE, RETRY_ON_NETWORK
from messaging import notifications, webhooks
from messaging.email import sending
from messaging.models import WebhookDelivery


@shared_task(**ACKS_LATE, soft_time_limit=60, time_limit=90)
def send_email(message_id: int) -> str:
    """Send one queued email (idempotent: a claimed or sent message is skipped); retries transient failures."""
    outcome = sending.email_send(message_id=message_id)
    if outcome == "retry":
        send_email.apply_async((message_id,), queue="email", countdown=60)
    return outcome


@shared_task(**RETRY_ON_DATABASE, soft_time_limit=120)
def requeue_stale_emails() -> int:
    """Periodic recovery sweep for emails whose send task was lost."""
    return sending.email_requeue_stale()


@shared_task(**RETRY_ON_NETWORK, soft_time_limit=30)
def post_to_slack(text: str) -> int:
    return notifications.slack_post(text=text)


@shared_task(**RETRY_ON_DATABASE, soft_time_limit=300, time_limit=360)
def send_task_digests() -> int:
    """Daily: each user's due and overdue tasks by email, with an in-app reminder for overdue ones."""
    return notifications.task_digest_send()


@shared_task(**RETRY_ON_DATABASE, soft_time_limit=60, time_limit=90)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt; schedules the next one with exponential backoff until MAX_ATTEMPTS (idempotent)."""
    outcome = webhooks.delivery_attempt(delivery_id=delivery_id)
    if outcome == "retry":
        attempts = WebhookDelivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
        deliver_webhook.apply_async((delivery_id,), countdown=webhooks.retry_delay(attempts))
    return outcome


# --- Hooks (registered in MessagingConfig.ready, run after commit) ----------------------------------------------------


def emails_enqueue(message_ids: list[int]) -> None:
    for pk in message_ids:
        send_email.apply_async((pk,), queue="email")


def deliveries_enqueue(delivery_ids: list[int]) -> None:
    for pk in delivery_ids:
        deliver_webhook.delay(pk)


def slack_enqueue(texts: list[str]) -> None:
    for text in texts:
        post_to_slack.delay(text)
