"""REST ticket rows whose account is not known yet, kept as unmatched inbound records (source "api") until the
account appears; the helpdesk replay attaches them then."""

from __future__ import annotations

import orjson
from django.utils import timezone

from accounts.models import InboundWebhookEvent, InboundWebhookStatus

PENDING_TICKETS_SOURCE = "api"


def tickets_pending_sync(*, stored: list[str], waiting: list[dict]) -> None:
    """Keep REST ticket rows whose account is unknown (one record per ticket id, the latest row wins) and retire
    the kept rows of tickets just stored with a known account, so a late replay never overwrites them."""
    if stored:
        InboundWebhookEvent.objects.filter(
            source=PENDING_TICKETS_SOURCE, status=InboundWebhookStatus.UNMATCHED,
            event_id__in=[f"ticket:{external_id}" for external_id in stored],
        ).update(
            status=InboundWebhookStatus.IGNORED, error="Superseded by a later upsert.", processed_at=timezone.now()
        )  # fmt: skip
    if not waiting:
        return
    records = {
        f"ticket:{row['external_id']}": InboundWebhookEvent(
            source=PENDING_TICKETS_SOURCE,
            event_id=f"ticket:{row['external_id']}",
            type="ticket",
            payload=orjson.loads(orjson.dumps(row)),
            status=InboundWebhookStatus.UNMATCHED,
            customer_ref=row["account"][:255],
        )  # fmt: skip
        for row in waiting
    }
    InboundWebhookEvent.objects.bulk_create(
        list(records.values()),
        update_conflicts=True,
        unique_fields=["source", "event_id"],
        update_fields=["payload", "status", "customer_ref", "received_at"],
    )
