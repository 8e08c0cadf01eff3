"""Writing a batch: apply its messages in order (alias, group, identify, events), store the events, keep the
messages whose account is not known yet and replay them once it is; a batch the database refuses or rolls back
is retried or stored message by message."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import DataError, IntegrityError, OperationalError, transaction
from django.utils import timezone

from accounts.imports.events import events_insert
from accounts.models import PendingMessage
from accounts.tracking.identity import apply_aliases, apply_groups, apply_identifies, resolve_event_accounts
from accounts.tracking.messages import EVENT_TYPES, InvalidMessage, Message, parse_message, parse_time

logger = logging.getLogger(__name__)


# Deadlock and serialization failures: PostgreSQL rolled the batch back, so running it again is safe.
RETRYABLE_PGCODES = {"40P01", "40001"}
DEADLOCK_ATTEMPTS = 3


@dataclass
class TrackingResult:
    valid: int = 0
    stored: int = 0
    duplicates: int = 0
    pending: int = 0
    errors: list[dict] = field(default_factory=list)


def _store_pending(messages: list[Message]) -> None:
    PendingMessage.objects.bulk_create(
        [
            PendingMessage(
                message_id=m.message_id,
                type=m.type,
                user_id=m.user_id,
                group_id=m.group_id,
                payload={**m.raw, "type": m.type, "_occurred_at": m.occurred_at.isoformat()},
            )
            for m in messages
        ],
        ignore_conflicts=True,
    )


def _process(messages: list[Message], *, keep_pending: bool) -> tuple[int, int, list[Message]]:
    """Apply messages in order alias → group → identify → events; returns (stored, duplicates, unresolved)."""
    aliases = [m for m in messages if m.type == "alias"]
    aliased_users = apply_aliases(aliases) if aliases else set()
    groups = [m for m in messages if m.type == "group"]
    identifies = [m for m in messages if m.type == "identify"]
    events = [m for m in messages if m.type in EVENT_TYPES]
    if groups:
        apply_groups(groups)
    unresolved = apply_identifies(identifies) if identifies else []
    rows, unresolved_events = resolve_event_accounts(events)
    unresolved += unresolved_events
    stored = events_insert(rows=rows) if rows else 0
    if keep_pending and unresolved:
        _store_pending(unresolved)
    if groups or identifies or aliased_users:
        pending_messages_replay(
            group_ids={m.group_id for m in groups}, user_ids={m.user_id for m in groups + identifies} | aliased_users
        )
    return stored, len(rows) - stored, unresolved


def _process_each(messages: list[Message]) -> tuple[int, int, list[Message], list[dict]]:
    """Each message in its own savepoint: returns (stored, duplicates, unresolved, errors of the refused ones)."""
    stored = duplicates = 0
    unresolved: list[Message] = []
    refused: list[dict] = []
    for msg in messages:
        try:
            with transaction.atomic():
                one_stored, one_duplicates, one_unresolved = _process([msg], keep_pending=True)
        except (DataError, IntegrityError) as exc:
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            logger.warning("Tracking message %d refused by the database: %s", msg.index, reason)
            refused.append({"index": msg.index, "reason": f"Could not be stored: {reason}"})
            continue
        stored += one_stored
        duplicates += one_duplicates
        unresolved += one_unresolved
    return stored, duplicates, unresolved, refused


@transaction.atomic
def tracking_ingest(
    *, messages: list[Any], received_at: dt.datetime | None = None, sent_at: Any = None, default_type: str = ""
) -> TrackingResult:
    """Validate and store a batch; invalid messages are reported by index, the valid ones stored (durably, in
    this transaction) or kept pending until their account appears."""
    received_at = received_at or timezone.now()
    result = TrackingResult()
    try:
        batch_sent_at = parse_time(sent_at, "sentAt")
    except InvalidMessage as exc:
        result.errors.append({"index": None, "reason": str(exc)})
        batch_sent_at = None
    parsed: list[Message] = []
    seen: set[str] = set()
    for index, raw in enumerate(messages):
        try:
            msg = parse_message(
                raw, index=index, received_at=received_at, batch_sent_at=batch_sent_at, default_type=default_type
            )
        except InvalidMessage as exc:
            result.errors.append({"index": index, "reason": str(exc)})
            continue
        if msg.message_id in seen:
            result.duplicates += 1
            continue
        seen.add(msg.message_id)
        parsed.append(msg)
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                stored, duplicates, unresolved = _process(parsed, keep_pending=True)
            break
        except (DataError, IntegrityError):
            # Some message passed validation yet the database refused it: store the others one by one and report
            # exactly the refused ones (Segment's per-message semantics; a 5xx would make the client resend all).
            stored, duplicates, unresolved, refused = _process_each(parsed)
            result.errors += refused
            parsed = [m for m in parsed if m.index not in {e["index"] for e in refused}]
            break
        except OperationalError as exc:
            # Two batches that repeat the same message ids in another order can deadlock on the unique key;
            # PostgreSQL rolls one back (to our savepoint): running it again stores it, nothing is half-written.
            if getattr(exc.__cause__, "pgcode", None) not in RETRYABLE_PGCODES or attempt == DEADLOCK_ATTEMPTS:
                raise
            logger.info("Tracking batch rolled back by %s; attempt %d of %d", exc.__cause__.pgcode, attempt + 1,
                        DEADLOCK_ATTEMPTS)  # fmt: skip
    result.errors.sort(key=lambda e: -1 if e["index"] is None else e["index"])
    result.valid = len(parsed) + result.duplicates
    result.stored += stored
    result.duplicates += duplicates
    result.pending = len(unresolved)
    return result


def pending_messages_replay(*, group_ids=(), user_ids=()) -> int:
    """Replay the waiting messages of accounts / users that just became known; returns how many were resolved."""
    group_ids, user_ids = set(group_ids) - {""}, set(user_ids) - {""}
    if not group_ids and not user_ids:
        return 0
    waiting = list(PendingMessage.objects.filter(group_id__in=group_ids)) + list(
        PendingMessage.objects.filter(group_id="", user_id__in=user_ids)
    )
    if not waiting:
        return 0
    messages = []
    for pending in waiting:
        raw = dict(pending.payload)
        occurred_at = dt.datetime.fromisoformat(raw.pop("_occurred_at"))
        msg = parse_message(raw, index=0, received_at=occurred_at, batch_sent_at=None, default_type=pending.type)
        msg.occurred_at = occurred_at
        msg.message_id = pending.message_id
        messages.append(msg)
    identifies = [m for m in messages if m.type == "identify"]
    unresolved = apply_identifies(identifies) if identifies else []
    rows, unresolved_events = resolve_event_accounts([m for m in messages if m.type in EVENT_TYPES])
    if rows:
        events_insert(rows=rows)
    still = {m.message_id for m in unresolved + unresolved_events}
    done = [p.pk for p in waiting if p.message_id not in still]
    PendingMessage.objects.filter(pk__in=done).delete()
    return len(done)
