"""What an upsert of accounts or contacts releases: the tracking messages waiting for them, the helpdesk and REST
tickets kept unmatched, and the Stripe events of a customer no account had yet. Run on the `accounts-upserted` hook
(`AccountsConfig.ready`): the replays write through the upsert, which therefore cannot import them."""

from __future__ import annotations

from django.db import models

from accounts.tracking.ingest import pending_messages_replay
from accounts.webhooks_helpdesk import helpdesk_unmatched_replay
from accounts.webhooks_stripe import stripe_unmatched_replay


def upserted_replay(
    *, kind: str, rows: list[tuple[int, dict]], created: list[models.Model], objects: list[models.Model]
) -> None:
    """Replay what waited for the accounts or contacts of an upsert: `created` are its new objects, `objects` every
    object of its rows (created, updated or unchanged), in row order."""
    if kind == "accounts":
        pending_messages_replay(group_ids=[obj.external_id for obj in created])
        helpdesk_unmatched_replay(
            external_ids=[obj.external_id for obj in objects],
            domains=[obj.domain for obj in objects if obj.domain],
        )
        customers = [row["billing_customer_id"] for _, row in rows if row.get("billing_customer_id")]
        if customers:
            stripe_unmatched_replay(customer_ids=customers)
    else:
        pending_messages_replay(user_ids=[obj.user_id for obj in objects if obj.user_id])


def upserted_replay_hook(payload: dict) -> None:
    """The `accounts-upserted` hook (in the writer's transaction)."""
    upserted_replay(**payload)
