"""Importing one chunk of a file's rows. Events take a fast path: rows are checked in plain Python and, on
PostgreSQL, loaded with COPY into a temporary staging table, then inserted with one INSERT … SELECT joined to the
accounts (unknown account ids come back as row errors, duplicates are skipped by message_id). Other kinds are
mapped from DESIGN.md's column names to REST API input and go through the same set-based upserts as the REST
API, with per-row errors instead of all-or-nothing."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts.imports import services
from accounts.imports.events import derived_message_id, events_insert, queue_rollups, touch_accounts_sql
from accounts.models import Account, ImportKind, UsageEvent
from churnapp.validation import MAX_EVENT_TIME, MIN_EVENT_TIME, event_time_problem, nul_paths

KNOWN_COLUMNS = {
    ImportKind.ACCOUNTS: {
        "account_id": "external_id", "name": "name", "domain": "domain", "owner_email": "owner_email",
        "segment": "segment", "tier": "tier", "plan": "plan", "lifecycle_stage": "lifecycle_stage",
        "status": "status", "renewal_date": "renewal_date", "created_at": "created_at", "tags": "tags",
        "billing_customer_id": "billing_customer_id",
    },
    ImportKind.CONTACTS: {
        "contact_id": "external_id", "external_id": "external_id", "account_id": "account", "email": "email",
        "name": "name", "title": "title", "user_id": "user_id", "is_primary": "is_primary",
    },
    ImportKind.SUBSCRIPTIONS: {
        "subscription_id": "external_id", "external_id": "external_id", "account_id": "account",
        "product": "product", "start_date": "start_date", "end_date": "end_date", "mrr": "mrr",
        "quantity": "quantity", "units": "units", "billing_period": "billing_period", "status": "status",
        "currency": "currency",
    },
    ImportKind.TICKETS: {
        "ticket_id": "external_id", "account_id": "account", "subject": "subject", "status": "status",
        "priority": "priority", "opened_at": "opened_at", "resolved_at": "resolved_at",
    },
    ImportKind.SURVEYS: {
        "response_id": "external_id", "external_id": "external_id", "account_id": "account",
        "contact_email": "contact_email", "kind": "kind", "score": "score", "comment": "comment",
        "responded_at": "responded_at",
    },
}  # fmt: skip
SERVICE_KIND = {ImportKind.SURVEYS: "surveys"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def map_row(kind: str, raw: dict) -> dict:
    """An import row (DESIGN.md column names) as REST API input; other account columns → custom attributes."""
    columns = KNOWN_COLUMNS[kind]
    row: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for column, value in raw.items():
        if _blank(value):
            continue
        value = value.strip() if isinstance(value, str) else value
        if column in columns:
            target = columns[column]
            if target == "tags" and isinstance(value, str):
                value = [t.strip() for t in value.replace(";", ",").split(",") if t.strip()]
            row[target] = value
        elif kind == ImportKind.ACCOUNTS:
            custom[column] = value
    if custom:
        row["custom_attributes"] = custom
    return row


def _row_problem(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return _("Each row must be an object.")
    if "__extra__" in raw:
        return _("More values than header columns.")
    if "__invalid__" in raw:
        return raw["__invalid__"]
    return None


# --- Events ------------------------------------------------------------------------------------------------------


def _parse_time(value: Any) -> dt.datetime:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(_("event_time is required (ISO 8601)."))
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(_("event_time is not ISO 8601: %(value)r.") % {"value": value[:40]}) from None
    try:
        parsed = (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except OverflowError:
        parsed = None
    # event_time_problem's one problem is the range (churnapp.validation.EVENT_TIME_RANGE), said here in words
    # that translate.
    if parsed is None or event_time_problem(parsed):
        raise ValueError(
            _("event_time is out of range (years %(first)s–%(last)s): %(value)r.")
            % {"first": MIN_EVENT_TIME.year, "last": MAX_EVENT_TIME.year, "value": value[:40]}
        )
    return parsed


def parse_event(raw: dict) -> tuple[str, str, str, dt.datetime, dict, str]:
    """(account external id, user_id, event_type, occurred_at, properties, message_id) or ValueError."""
    account = raw.get("account_id")
    account = str(account).strip() if account is not None else ""
    if not account:
        raise ValueError(_("account_id is required."))
    event_type = str(raw.get("event_type") or "").strip()
    if not event_type or len(event_type) > 128:
        raise ValueError(_("event_type is required (at most 128 characters)."))
    occurred_at = _parse_time(raw.get("event_time"))
    user_id = str(raw.get("user_id") or "").strip()
    if len(user_id) > 128:
        raise ValueError(_("user_id is longer than 128 characters."))
    properties = raw.get("properties") or {}
    # A NUL is a "\x00" in a text or a "\u0000" escape in JSON text: a row of texts holding neither (nearly all)
    # skips the walk through its parsed values.
    texts = (account, event_type, user_id, str(raw.get("message_id") or ""))
    may_hold_nul = not isinstance(properties, str) or any("\x00" in t or "\\u0000" in t for t in (*texts, properties))
    if isinstance(properties, str):
        try:
            properties = orjson.loads(properties)
        except orjson.JSONDecodeError:
            raise ValueError(_("properties is not valid JSON.")) from None
    if not isinstance(properties, dict):
        raise ValueError(_("properties must be a JSON object."))
    if may_hold_nul and nul_paths([account, event_type, user_id, properties, raw.get("message_id") or ""]):
        raise ValueError(_("Values must not contain NUL (\\u0000) characters."))
    message_id = str(raw.get("message_id") or "").strip()
    if len(message_id) > 128:
        raise ValueError(_("message_id is longer than 128 characters."))
    message_id = message_id or derived_message_id(
        account=account, occurred_at=occurred_at, event_type=event_type, user_id=user_id, properties=properties
    )
    return account, user_id, event_type, occurred_at, properties, message_id


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


_STAGE = "import_event_stage"


def _events_chunk_postgres(parsed: list[tuple[int, tuple]]) -> tuple[int, int, list[dict]]:
    buffer = io.StringIO()
    for number, (account, user_id, event_type, occurred_at, properties, message_id) in parsed:
        buffer.write(
            f"{number}\t{_copy_text(account)}\t{_copy_text(user_id)}\t{_copy_text(event_type)}\t"
            f"{occurred_at.isoformat()}\t{_copy_text(orjson.dumps(properties).decode())}\t{_copy_text(message_id)}\n"
        )
    buffer.seek(0)
    table = UsageEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (row_number integer, account_ext text, user_id text, "
            "event_type text, occurred_at timestamptz, properties jsonb, message_id text) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {_STAGE}")  # also when an outer transaction keeps ON COMMIT from clearing it
        cursor.cursor.copy_expert(
            f"COPY {_STAGE} (row_number, account_ext, user_id, event_type, occurred_at, properties, message_id) "
            "FROM STDIN",
            buffer,
        )
        cursor.execute(
            f"SELECT s.row_number, s.account_ext FROM {_STAGE} s LEFT JOIN {Account._meta.db_table} a "
            "ON a.external_id = s.account_ext WHERE a.id IS NULL"
        )
        unknown = cursor.fetchall()
        cursor.execute(
            touch_accounts_sql(
                f"INSERT INTO {table} (account_id, user_id, event_type, occurred_at, properties, message_id, "
                f"received_at) SELECT a.id, s.user_id, s.event_type, s.occurred_at, s.properties, s.message_id, now() "
                f"FROM {_STAGE} s JOIN {Account._meta.db_table} a ON a.external_id = s.account_ext "
                "ON CONFLICT (message_id) DO NOTHING RETURNING account_id, occurred_at"
            )
        )
        touched = cursor.fetchall()
    inserted = sum(count for _, _, count in touched)
    queue_rollups({(account_id, day.isoformat()) for account_id, day, _ in touched})
    errors = [
        {"index": n, "errors": {"account_id": [_("Unknown account %(account)r.") % {"account": ext}]}}
        for n, ext in unknown
    ]
    return inserted, len(parsed) - len(unknown) - inserted, errors


def _events_chunk_generic(parsed: list[tuple[int, tuple]]) -> tuple[int, int, list[dict]]:
    accounts = dict(Account.objects.filter(external_id__in={p[0] for _, p in parsed}).values_list("external_id", "pk"))
    rows, errors = [], []
    for number, (account, user_id, event_type, occurred_at, properties, message_id) in parsed:
        if account not in accounts:
            unknown = _("Unknown account %(account)r.") % {"account": account}
            errors.append({"index": number, "errors": {"account_id": [unknown]}})
            continue
        rows.append({"account_id": accounts[account], "user_id": user_id, "event_type": event_type,
                     "occurred_at": occurred_at, "properties": properties, "message_id": message_id})  # fmt: skip
    created = events_insert(rows=rows)
    return created, len(rows) - created, errors


def events_chunk(chunk: list[tuple[int, Any]]) -> tuple[int, int, list[dict]]:
    """Import a chunk of event rows: (created, skipped duplicates, row errors)."""
    parsed, errors = [], []
    for number, raw in chunk:
        problem = _row_problem(raw)
        if problem:
            errors.append({"index": number, "errors": {"non_field_errors": [problem]}})
            continue
        try:
            parsed.append((number, parse_event(raw)))
        except ValueError as exc:
            errors.append({"index": number, "errors": {"non_field_errors": [str(exc)]}})
    if not parsed:
        return 0, 0, errors
    with transaction.atomic():
        if connection.vendor == "postgresql":
            created, skipped, more = _events_chunk_postgres(parsed)
        else:
            created, skipped, more = _events_chunk_generic(parsed)
    return created, skipped, errors + more


# --- Other kinds ------------------------------------------------------------------------------------------------


def rows_chunk(kind: str, chunk: list[tuple[int, Any]]) -> tuple[int, int, int, list[dict]]:
    """Upsert a chunk of rows: (created, updated, unchanged, row errors)."""
    rows, errors = [], []
    for number, raw in chunk:
        problem = _row_problem(raw)
        if problem:
            errors.append({"index": number, "errors": {"non_field_errors": [problem]}})
        else:
            rows.append((number, map_row(kind, raw)))
    result, more = services.chunk_upsert(kind=SERVICE_KIND.get(kind, kind), rows=rows)
    return result.created, result.updated, result.unchanged, errors + more
