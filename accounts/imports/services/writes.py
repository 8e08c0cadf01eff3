"""The entry points of the upserts: all-or-nothing bulk upserts (REST API), per-row chunk upserts (imports), and
the single-object upsert, update and delete of the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, models, transaction

from accounts import serializers as s
from accounts.imports.services._common import account_tags_set, duplicate_rows, ensure_actor_may_write
from accounts.imports.services.pending_tickets import tickets_pending_sync
from accounts.imports.services.rows import KINDS, RowErrors, rows_resolve, rows_validate
from accounts.imports.services.upsert import HEALTH_FACT_KINDS, UpsertResult, facts_changed, rows_upsert
from accounts.models import Account
from churnapp import hooks

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@transaction.atomic
def bulk_upsert(*, kind: str, rows: list[Any], actor: AbstractBaseUser | None = None) -> UpsertResult:
    """All-or-nothing upsert of up to MAX_BULK_ROWS rows: any invalid row raises RowErrors and nothing is written."""
    if len(rows) > s.MAX_BULK_ROWS:
        raise RowErrors([{"index": s.MAX_BULK_ROWS, "errors": {"non_field_errors": ["At most 1000 rows."]}}])
    valid, errors = rows_validate(kind=kind, rows=enumerate(rows))
    resolved, more = rows_resolve(kind=kind, rows=valid)
    waiting: list[tuple[int, dict]] = []
    if kind == "tickets":
        # A ticket of an account not known yet is kept and attached when the account appears (never dropped).
        unknown = {e["index"] for e in more if set(e["errors"]) == {"account"}}
        waiting = [(index, row) for index, row in valid if index in unknown]
        more = [e for e in more if e["index"] not in unknown]
    errors += more + duplicate_rows(KINDS[kind], resolved + waiting)
    if errors:
        raise RowErrors(sorted(errors, key=lambda e: e["index"]))
    try:
        with transaction.atomic():
            result = rows_upsert(kind=kind, rows=resolved, actor=actor)
    except IntegrityError as exc:
        raise RowErrors([{"index": 0, "errors": {"non_field_errors": [_integrity_message(exc)]}}]) from exc
    if kind == "tickets":
        tickets_pending_sync(stored=[row["external_id"] for _, row in resolved], waiting=[r for _, r in waiting])
        result.pending = len(waiting)
        result.results += [{"index": index, "id": None, "action": "pending"} for index, _ in waiting]
        result.results.sort(key=lambda r: r["index"])
    return result


def chunk_upsert(*, kind: str, rows: list[tuple[int, Any]]) -> tuple[UpsertResult, list[dict]]:
    """Imports: write the valid rows of a chunk, return the errors of the others (per-row semantics)."""
    valid, errors = rows_validate(kind=kind, rows=rows)
    resolved, more = rows_resolve(kind=kind, rows=valid)
    dupes = duplicate_rows(KINDS[kind], resolved)
    bad = {e["index"] for e in dupes}
    resolved = [(i, row) for i, row in resolved if i not in bad]
    errors += more + dupes
    try:
        with transaction.atomic():
            result = rows_upsert(kind=kind, rows=resolved, skip_invalid=True)
            return result, errors + result.errors
    except IntegrityError:
        pass
    # A constraint failed somewhere in the chunk: retry row by row to report exactly the offending rows.
    result = UpsertResult()
    for index, row in resolved:
        try:
            with transaction.atomic():
                one = rows_upsert(kind=kind, rows=[(index, row)], skip_invalid=True)
        except IntegrityError as exc:
            errors.append({"index": index, "errors": {"non_field_errors": [_integrity_message(exc)]}})
            continue
        errors += one.errors
        result.created += one.created
        result.updated += one.updated
        result.unchanged += one.unchanged
    return result, errors


def _integrity_message(exc: IntegrityError) -> str:
    text = str(exc).lower()
    if "unique" in text or "duplicate" in text:
        return "Conflicts with an existing record (a unique value such as an e-mail or id is already used)."
    return "Violates a data rule (for example end_date after start_date, score range)."


def upsert_one(*, kind: str, row: dict, actor: AbstractBaseUser | None = None) -> tuple[models.Model | None, str]:
    """Upsert a single row (PUT …/by-external-id/{id}/); returns the object and created/updated/unchanged, or
    (None, "pending") for a ticket kept until its account appears."""
    result = bulk_upsert(kind=kind, rows=[row], actor=actor)
    entry = result.results[0]
    if entry["action"] == "pending":
        return None, "pending"
    return KINDS[kind].model.objects.get(pk=entry["id"]), entry["action"]


def _current_input(kind: str, obj: models.Model) -> dict:
    """The object's values under the input serializer's field names (for partial updates)."""
    current = {}
    for name in KINDS[kind].serializer().fields:
        if name == "account":
            current[name] = obj.account.external_id
        elif name in ("owner_email", "assignee_email"):
            user = getattr(obj, name.removesuffix("_email"))
            current[name] = user.email if user else ""
        elif name == "contact_email":
            current[name] = obj.contact.email if obj.contact_id else ""
        elif name == "mrr" and getattr(obj, "original_mrr", None) is not None:
            current[name] = obj.original_mrr  # in its own currency: converted again with the rest of the row
        elif name != "tags" and hasattr(obj, name):
            current[name] = getattr(obj, name)
    return {k: v for k, v in current.items() if v is not None}


@transaction.atomic
def delete_one(*, kind: str, obj: models.Model) -> None:
    """Delete one object; a deleted fact that fed its account's health (a ticket, a subscription, a survey answer)
    marks the account stale in the same transaction. A deleted account takes its derived state with it."""
    account_id = getattr(obj, "account_id", None)
    obj.delete()
    if kind in HEALTH_FACT_KINDS and kind != "accounts" and account_id is not None:
        facts_changed([account_id])


@transaction.atomic
def update_one(*, kind: str, obj: models.Model, changes: dict, actor: AbstractBaseUser | None = None) -> models.Model:
    """Update one object by primary key with the given fields (others keep their values)."""
    row = {**_current_input(kind, obj), **changes}
    valid, errors = rows_validate(kind=kind, rows=[(0, row)])
    resolved, more = rows_resolve(kind=kind, rows=valid)
    if errors or more:
        raise RowErrors(errors + more)
    fields = resolved[0][1]
    tags = fields.pop("tags", None)
    if isinstance(obj, Account):
        account_ids = {obj.pk}
    elif hasattr(obj, "account_id"):
        account_ids = {obj.account_id, fields.get("account_id", obj.account_id)}
    else:
        account_ids = set()
    ensure_actor_may_write(actor, account_ids)
    for name, value in fields.items():
        if name == "custom_attributes":
            value = {**obj.custom_attributes, **value}
        setattr(obj, name, value)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise RowErrors([{"index": 0, "errors": {"non_field_errors": [_integrity_message(exc)]}}]) from exc
    if tags is not None:
        account_tags_set({obj.pk: tags})
    if kind in HEALTH_FACT_KINDS:
        facts_changed(account_ids or {obj.pk})
    if isinstance(obj, Account) and ("domain" in changes or "external_id" in changes):
        # The helpdesk tickets kept for this account's new key or domain are released (rows carry no Stripe id).
        hooks.notify(hooks.ACCOUNTS_UPSERTED, {"kind": "accounts", "rows": [], "created": [], "objects": [obj]})
    return obj


def event_day_pairs(rows: Iterable[dict]) -> set[tuple[int, dt.date]]:
    """The (account_id, UTC day) pairs touched by event rows, for incremental rollups."""
    return {(row["account_id"], row["occurred_at"].astimezone(dt.UTC).date()) for row in rows}
