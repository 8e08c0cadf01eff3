"""The Segment-compatible tracking pipeline: identify, track (page, screen), group and alias messages → facts.

- `group`: groupId is the account's external id; traits create or update the account (known keys map to fields,
  the rest become custom attributes) and the user is linked to it as a contact.
- `identify`: traits update the contacts with that userId (email, name, title; the rest merge into traits).
- `track` / `page` / `screen`: a usage event of the account given by `context.groupId`, else of the user's contact.
- `alias`: previousId (an anonymous or former id) is the same person as userId: contacts known by the previous
  id take the user id, and messages under the previous id (waiting or later) go to that user's account.
- Clock skew: when the client sends `sentAt`, the event time is `receivedAt − (sentAt − timestamp)`, so a device
  whose clock is off still lands at the right instant (Segment's own correction).
- Duplicates: `messageId` de-duplicates events; a message without one gets a content-derived id.
- Nothing is dropped: a message whose account is not known yet waits in PendingMessage and is replayed when the
  account (group call, API, import) or the user's contact appears.

Everything here is set-based: a batch of any size costs a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from accounts.imports.events import derived_message_id, events_insert
from accounts.models import Account, Contact, PendingMessage, Segment, TrackingAlias
from churnapp.validation import EVENT_TIME_RANGE, event_time_problem

logger = logging.getLogger(__name__)

EVENT_TYPES = {"track", "page", "screen"}
SUPPORTED_TYPES = EVENT_TYPES | {"identify", "group", "alias"}
MAX_ID_LENGTH = 128
# Deadlock and serialization failures: PostgreSQL rolled the batch back, so running it again is safe.
RETRYABLE_PGCODES = {"40P01", "40001"}
DEADLOCK_ATTEMPTS = 3
ACCOUNT_TRAITS = {"name": "name", "plan": "plan", "domain": "domain", "website": "domain", "tier": "tier"}
CONTACT_TRAITS = {"email", "name", "title", "firstName", "lastName", "first_name", "last_name"}


@dataclass
class TrackingResult:
    valid: int = 0
    stored: int = 0
    duplicates: int = 0
    pending: int = 0
    errors: list[dict] = field(default_factory=list)


@dataclass(slots=True)
class Message:
    index: int
    type: str
    message_id: str
    user_id: str
    group_id: str
    occurred_at: dt.datetime
    event: str = ""
    properties: dict = field(default_factory=dict)
    traits: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)
    previous_id: str = ""


class InvalidMessage(ValueError):
    pass


def _parse_time(value: Any, name: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidMessage(f"{name} must be an ISO 8601 string.")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidMessage(f"{name} is not an ISO 8601 date-time: {value[:40]!r}.") from None
    try:
        parsed = parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    except OverflowError:
        raise InvalidMessage(f"{name} is out of range ({EVENT_TIME_RANGE}): {value[:40]!r}.") from None
    problem = event_time_problem(parsed)
    if problem:
        raise InvalidMessage(f"{name} {problem[:-1]}: {value[:40]!r}.")
    return parsed


def _id(value: Any, name: str) -> str:
    if type(value) is str and len(value) <= MAX_ID_LENGTH:  # the common case, checked first
        return value
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidMessage(f"{name} must be a string.")
    text = str(value)
    if len(text) > MAX_ID_LENGTH:
        raise InvalidMessage(f"{name} is longer than {MAX_ID_LENGTH} characters.")
    return text


def _object(value: Any, name: str) -> dict:
    if type(value) is dict:
        return value
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidMessage(f"{name} must be a JSON object.")
    return value


def parse_message(
    raw: Any, *, index: int, received_at: dt.datetime, batch_sent_at: dt.datetime | None, default_type: str = ""
) -> Message:
    """Validate one Segment message and compute its corrected event time; raises InvalidMessage with the reason."""
    if not isinstance(raw, dict):
        raise InvalidMessage("A message must be a JSON object.")
    try:
        encoded = orjson.dumps(raw)
    except (TypeError, orjson.JSONEncodeError):
        raise InvalidMessage("A message must be plain JSON.") from None
    if b"\\u0000" in encoded:  # PostgreSQL text and jsonb cannot hold NUL characters
        raise InvalidMessage("A message must not contain NUL (\\u0000) characters.")
    kind = raw.get("type") or default_type
    if not isinstance(kind, str) or kind not in SUPPORTED_TYPES:
        raise InvalidMessage(
            f"Unsupported message type {str(kind)[:40]!r} (use identify, track, page, screen, group or alias)."
        )
    user_id = _id(raw.get("userId"), "userId")
    anonymous_id = _id(raw.get("anonymousId"), "anonymousId")
    if not user_id and not anonymous_id:
        raise InvalidMessage("userId or anonymousId is required.")
    context = _object(raw.get("context"), "context")
    properties = _object(raw.get("properties"), "properties")
    traits = _object(raw.get("traits"), "traits")
    group_id = _id(raw.get("groupId"), "groupId") if kind == "group" else _id(context.get("groupId"), "context.groupId")
    if kind == "group" and not group_id:
        raise InvalidMessage("groupId is required for group.")
    previous_id = ""
    if kind == "alias":
        previous_id = _id(raw.get("previousId"), "previousId")
        if not previous_id or not user_id:
            raise InvalidMessage("previousId and userId are required for alias.")
        if previous_id == user_id:
            raise InvalidMessage("previousId and userId must differ.")
    event = ""
    if kind == "track":
        event = raw.get("event")
        if not isinstance(event, str) or not event.strip():
            raise InvalidMessage("event is required for track.")
        if len(event) > 128:
            raise InvalidMessage("event is longer than 128 characters.")
    elif kind in ("page", "screen"):
        name = raw.get("name")
        event = f"{kind}:{name}" if isinstance(name, str) and name else kind
        if len(event) > 128:
            raise InvalidMessage(f"name is longer than {128 - len(kind) - 1} characters.")
    timestamp = _parse_time(raw.get("timestamp"), "timestamp") or _parse_time(
        raw.get("originalTimestamp"), "originalTimestamp"
    )
    sent_at = _parse_time(raw.get("sentAt"), "sentAt") or batch_sent_at
    if timestamp is None:
        occurred_at = received_at
    elif sent_at is not None:
        occurred_at = received_at - (sent_at - timestamp)
        if event_time_problem(occurred_at):
            raise InvalidMessage("timestamp and sentAt are too far apart to correct for clock skew.")
    else:
        occurred_at = timestamp
    if kind == "group":
        _check_lengths(traits, ACCOUNT_TRAITS, Account)
    elif kind == "identify":
        contact = {"name": _contact_name(traits), "title": traits.get("title")}
        _check_lengths(contact, {"name": "name", "title": "title"}, Contact)
    message_id = _id(raw.get("messageId"), "messageId")
    if not message_id:
        message_id = derived_message_id(
            account=group_id, occurred_at=timestamp or occurred_at, event_type=f"{kind}:{event}",
            user_id=user_id or anonymous_id, properties={**properties, **traits},
        )  # fmt: skip
    return Message(
        index=index,
        type=kind,
        message_id=message_id,
        user_id=user_id or anonymous_id,
        group_id=group_id,
        occurred_at=occurred_at,
        event=event,
        properties=properties,
        traits=traits,
        raw=raw,
        previous_id=previous_id,
    )


def _check_lengths(traits: dict, mapping: dict[str, str], model) -> None:
    """A trait stored in a column must fit it: a per-message error, never a truncation (nor a failed batch)."""
    for key, column in mapping.items():
        value = traits.get(key)
        if isinstance(value, str):
            limit = model._meta.get_field(column).max_length
            if len(value) > limit:
                raise InvalidMessage(f"traits.{key} is longer than {limit} characters.")


def _split_account_traits(traits: dict) -> dict:
    row: dict[str, Any] = {}
    custom = {}
    for key, value in traits.items():
        if key in ACCOUNT_TRAITS and isinstance(value, str):
            row[ACCOUNT_TRAITS[key]] = value
        elif key == "segment" and value in Segment.values:
            row["segment"] = value
        elif key not in ("id", "groupId"):
            custom[key] = value
    if custom:
        row["custom_attributes"] = custom
    return row


def _contact_name(traits: dict) -> str:
    name = traits.get("name")
    if isinstance(name, str):
        return name
    first = traits.get("firstName") or traits.get("first_name") or ""
    last = traits.get("lastName") or traits.get("last_name") or ""
    return f"{first} {last}".strip() if isinstance(first, str) and isinstance(last, str) else ""


def _contact_fields(traits: dict) -> tuple[dict, dict]:
    fields: dict[str, str] = {}
    email = traits.get("email")
    if isinstance(email, str) and "@" in email and len(email) <= 254:
        fields["email"] = email.strip()
    name = _contact_name(traits)
    if name:
        fields["name"] = name
    if isinstance(traits.get("title"), str):
        fields["title"] = traits["title"]
    extra = {k: v for k, v in traits.items() if k not in CONTACT_TRAITS}
    return fields, extra


def _apply_groups(groups: list[Message]) -> None:
    """Create/update the accounts named by group calls and link each user to its account as a contact."""
    from accounts.imports.services import rows_upsert

    latest: dict[str, Message] = {}
    for msg in sorted(groups, key=lambda m: m.occurred_at):
        latest[msg.group_id] = msg
    rows = []
    for index, (group_id, msg) in enumerate(latest.items()):
        row = {"external_id": group_id, **_split_account_traits(msg.traits)}
        # Merge traits of every group call of this batch for the same account (latest wins per key).
        for other in groups:
            if other.group_id == group_id and other is not msg:
                merged = _split_account_traits(other.traits).get("custom_attributes", {})
                row["custom_attributes"] = {**merged, **row.get("custom_attributes", {})}
        rows.append((index, row))
    rows_upsert(kind="accounts", rows=rows, replay=False)
    from accounts.webhooks import helpdesk_unmatched_replay

    # Tickets that were waiting for these accounts attach now (tracking messages replay in _process).
    helpdesk_unmatched_replay(
        external_ids=list(latest), domains=[row["domain"] for _, row in rows if row.get("domain")]
    )
    accounts = dict(Account.objects.filter(external_id__in=latest).values_list("external_id", "pk"))
    links = {(accounts[m.group_id], m.user_id) for m in groups if m.user_id}
    _ensure_contacts(links)


def _ensure_contacts(links: set[tuple[int, str]]) -> None:
    if not links:
        return
    existing = set(
        Contact.objects.filter(account_id__in={a for a, _ in links}, user_id__in={u for _, u in links}).values_list(
            "account_id", "user_id"
        )
    )
    Contact.objects.bulk_create([Contact(account_id=a, user_id=u) for a, u in links - existing])


def _apply_identifies(identifies: list[Message]) -> list[Message]:
    """Update contacts from identify traits; returns the messages whose user has no contact (and no account) yet."""
    group_ids = {m.group_id for m in identifies if m.group_id}
    accounts = dict(Account.objects.filter(external_id__in=group_ids).values_list("external_id", "pk"))
    _ensure_contacts({(accounts[m.group_id], m.user_id) for m in identifies if m.group_id in accounts})
    contacts: dict[str, list[Contact]] = {}
    for contact in Contact.objects.filter(user_id__in={m.user_id for m in identifies}):
        contacts.setdefault(contact.user_id, []).append(contact)
    taken = set(
        Contact.objects.filter(account_id__in={c.account_id for cs in contacts.values() for c in cs})
        .exclude(email="")
        .values_list("account_id", "email")
    )
    unresolved, changed, fields = [], {}, set()
    for msg in sorted(identifies, key=lambda m: m.occurred_at):
        if msg.user_id not in contacts:
            unresolved.append(msg)
            continue
        values, extra = _contact_fields(msg.traits)
        for contact in contacts[msg.user_id]:
            for name, value in values.items():
                if name == "email" and value != contact.email:
                    if (contact.account_id, value) in taken:
                        continue
                    taken.add((contact.account_id, value))
                if getattr(contact, name) != value:
                    setattr(contact, name, value)
                    fields.add(name)
                    changed[contact.pk] = contact
            if extra and {**contact.traits, **extra} != contact.traits:
                contact.traits = {**contact.traits, **extra}
                fields.add("traits")
                changed[contact.pk] = contact
    if changed:
        Contact.objects.bulk_update(list(changed.values()), sorted(fields), batch_size=500)
    return unresolved


def _account_ids(external_ids: set[str]) -> dict[str, int]:
    """external id → pk of the known accounts among `external_ids` (one query)."""
    if not external_ids:
        return {}
    if connection.vendor == "postgresql":  # one array parameter instead of an IN list of thousands
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id, id FROM {Account._meta.db_table} WHERE external_id = ANY(%s)",
                [list(external_ids)],
            )
            return dict(cursor.fetchall())
    return dict(Account.objects.filter(external_id__in=external_ids).values_list("external_id", "pk"))


def _resolve_event_accounts(events: list[Message]) -> tuple[list[dict], list[Message]]:
    group_ids = {m.group_id for m in events if m.group_id}
    accounts = _account_ids(group_ids)
    users_without_group = {m.user_id for m in events if not m.group_id}
    by_user: dict[str, int] = {}
    if users_without_group:
        for user_id, account_id in (
            Contact.objects.filter(user_id__in=users_without_group).order_by("-id").values_list("user_id", "account_id")
        ):
            by_user[user_id] = account_id
        # Users known by another id since an alias call: their messages go to that user's account.
        aliases = _aliased(users_without_group - set(by_user))
        if aliases:
            found = dict(
                Contact.objects.filter(user_id__in=set(aliases.values()))
                .order_by("id")
                .values_list("user_id", "account_id")
            )
            by_user.update({old: found[new] for old, new in aliases.items() if new in found})
    rows, unresolved = [], []
    for msg in events:
        account_id = accounts.get(msg.group_id) if msg.group_id else by_user.get(msg.user_id)
        if account_id is None:
            unresolved.append(msg)
            continue
        rows.append(
            {
                "account_id": account_id,
                "user_id": msg.user_id,
                "event_type": msg.event,
                "occurred_at": msg.occurred_at,
                "properties": msg.properties,
                "message_id": msg.message_id,
            }
        )
    return rows, unresolved


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


def _apply_aliases(aliases: list[Message]) -> set[str]:
    """Record previousId → userId, move contacts known by the previous id to the user id (unless the account
    already has a contact with it) and let waiting messages of the previous id wait for the user id; returns the
    user ids whose waiting messages may now resolve."""
    mapping = {m.previous_id: m.user_id for m in sorted(aliases, key=lambda m: m.occurred_at)}
    TrackingAlias.objects.bulk_create(
        [TrackingAlias(previous_id=p, user_id=u) for p, u in mapping.items()],
        update_conflicts=True,
        unique_fields=["previous_id"],
        update_fields=["user_id"],
    )
    contacts = list(Contact.objects.filter(user_id__in=mapping))
    taken = set(
        Contact.objects.filter(account_id__in={c.account_id for c in contacts}, user_id__in=set(mapping.values()))
        .values_list("account_id", "user_id")
    )  # fmt: skip
    moved = []
    for contact in contacts:
        new_id = mapping[contact.user_id]
        if (contact.account_id, new_id) not in taken:
            taken.add((contact.account_id, new_id))
            contact.user_id = new_id
            moved.append(contact)
    Contact.objects.bulk_update(moved, ["user_id"], batch_size=500)
    waiting = list(PendingMessage.objects.filter(group_id="", user_id__in=mapping))
    for pending in waiting:
        pending.user_id = mapping[pending.user_id]
    PendingMessage.objects.bulk_update(waiting, ["user_id"], batch_size=500)
    return set(mapping.values())


def _aliased(user_ids: set[str]) -> dict[str, str]:
    """previous id → user id for the given ids that were aliased."""
    if not user_ids:
        return {}
    return dict(TrackingAlias.objects.filter(previous_id__in=user_ids).values_list("previous_id", "user_id"))


def _process(messages: list[Message], *, keep_pending: bool) -> tuple[int, int, list[Message]]:
    """Apply messages in order alias → group → identify → events; returns (stored, duplicates, unresolved)."""
    aliases = [m for m in messages if m.type == "alias"]
    aliased_users = _apply_aliases(aliases) if aliases else set()
    groups = [m for m in messages if m.type == "group"]
    identifies = [m for m in messages if m.type == "identify"]
    events = [m for m in messages if m.type in EVENT_TYPES]
    if groups:
        _apply_groups(groups)
    unresolved = _apply_identifies(identifies) if identifies else []
    rows, unresolved_events = _resolve_event_accounts(events)
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
        batch_sent_at = _parse_time(sent_at, "sentAt")
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
    unresolved = _apply_identifies(identifies) if identifies else []
    rows, unresolved_events = _resolve_event_accounts([m for m in messages if m.type in EVENT_TYPES])
    if rows:
        events_insert(rows=rows)
    still = {m.message_id for m in unresolved + unresolved_events}
    done = [p.pk for p in waiting if p.message_id not in still]
    PendingMessage.objects.filter(pk__in=done).delete()
    return len(done)
