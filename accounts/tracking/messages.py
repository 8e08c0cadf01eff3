"""Parsing and validating Segment messages: the checks each message must pass, with the reason when it does not,
and its event time corrected for clock skew."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson

from accounts.imports.events import derived_message_id
from accounts.models import Account, Contact
from accounts.tracking.traits import ACCOUNT_TRAITS, contact_name_of
from churnapp.validation import EVENT_TIME_RANGE, event_time_problem

EVENT_TYPES = {"track", "page", "screen"}
SUPPORTED_TYPES = EVENT_TYPES | {"identify", "group", "alias"}
MAX_ID_LENGTH = 128


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


def parse_time(value: Any, name: str) -> dt.datetime | None:
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
    timestamp = parse_time(raw.get("timestamp"), "timestamp") or parse_time(
        raw.get("originalTimestamp"), "originalTimestamp"
    )
    sent_at = parse_time(raw.get("sentAt"), "sentAt") or batch_sent_at
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
        contact = {"name": contact_name_of(traits), "title": traits.get("title")}
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
