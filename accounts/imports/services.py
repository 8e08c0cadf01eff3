"""Set-based upserts by natural key, shared by the REST API (single and bulk) and the file imports.

Flow for a batch of raw rows: `rows_validate` (serializer shapes and types, no queries) → `rows_resolve` (account
external ids, user e-mails and contacts in one query each) → `rows_upsert` (one SELECT for existing rows, one
bulk UPDATE, one bulk INSERT). The REST API is all-or-nothing (`bulk_upsert` raises RowErrors and writes nothing);
imports write the valid rows and report the others (`chunk_upsert`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts import serializers as s
from accounts.imports.events import events_insert
from accounts.models import Account, Activity, Contact, Subscription, SupportTicket, SurveyResponse, Tag, Task
from churnapp import derived
from churnapp.parsers import NUL_MESSAGE
from churnapp.validation import EVENT_TIME_RANGE, date_fields_out_of_range, nul_paths

DATE_RANGE_MESSAGE = f"Date out of range ({EVENT_TIME_RANGE})."

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[models.Model] | None
    serializer: type
    # Alternative natural keys, tried in order; the first whose fields are all set in a row identifies it.
    keys: tuple[tuple[str, ...], ...] = ()


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("accounts", Account, s.AccountInputSerializer, (("external_id",),)),
        Kind("contacts", Contact, s.ContactInputSerializer, (("external_id",), ("account_id", "email"))),
        Kind(
            "subscriptions",
            Subscription,
            s.SubscriptionInputSerializer,
            (("external_id",), ("account_id", "product", "start_date")),
        ),
        Kind("tickets", SupportTicket, s.TicketInputSerializer, (("external_id",),)),
        Kind(
            "surveys",
            SurveyResponse,
            s.SurveyResponseInputSerializer,
            (("external_id",), ("account_id", "kind", "responded_at")),
        ),
        Kind("tags", Tag, s.TagInputSerializer, (("name",),)),
        Kind("tasks", Task, s.TaskInputSerializer),
        Kind("activities", Activity, s.ActivityInputSerializer),
        Kind("events", None, s.EventInputSerializer),
    )
}


class RowErrors(Exception):
    """Some rows are invalid; `errors` is a list of {"index": …, "errors": {field: [messages]}}."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} invalid rows")
        self.errors = errors


class RowsForbidden(RowErrors, PermissionDenied):
    """Some rows touch an account the actor may not edit (the API answers 403 with the rows' errors)."""

    def __str__(self) -> str:
        return "You can only edit the accounts you own."


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pending: int = 0
    results: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # rows left out (imports), not part of the API answer

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "pending": self.pending, "results": self.results}  # fmt: skip


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {key: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])] for key, msgs in detail.items()}
    return {"non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def rows_validate(*, kind: str, rows: Iterable[tuple[int, Any]]) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Shapes and types of each (index, raw row); returns (valid rows, errors)."""
    serializer_class = KINDS[kind].serializer
    valid, errors = [], []
    for index, raw in rows:
        if not isinstance(raw, dict):
            errors.append({"index": index, "errors": {"non_field_errors": ["Each row must be a JSON object."]}})
            continue
        nul = nul_paths(raw)
        if nul:  # PostgreSQL cannot store them: refused per field, the same on the REST API and in imports
            errors.append({"index": index, "errors": {path: [NUL_MESSAGE] for path in nul}})
            continue
        serializer = serializer_class(data=raw)
        if serializer.is_valid():
            far = date_fields_out_of_range(serializer.validated_data)
            if far:
                errors.append({"index": index, "errors": {name: [DATE_RANGE_MESSAGE] for name in far}})
                continue
            valid.append((index, dict(serializer.validated_data)))
        else:
            errors.append({"index": index, "errors": _flatten(serializer.errors)})
    return valid, errors


def rows_resolve(*, kind: str, rows: list[tuple[int, dict]]) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Turn references into ids (set-based) and map input names to model fields; returns (rows, errors)."""
    errors: list[dict] = []
    account_refs = {row["account"] for _, row in rows if "account" in row}
    accounts = dict(Account.objects.filter(external_id__in=account_refs).values_list("external_id", "pk"))
    emails = {row[f] for _, row in rows for f in ("owner_email", "assignee_email") if row.get(f)}
    User = get_user_model()
    users = {e.lower(): pk for e, pk in User.objects.filter(email__in=emails).values_list("email", "pk")}
    contacts: dict[tuple[int, str], int] = {}
    if kind == "surveys":
        wanted = {row["contact_email"].lower() for _, row in rows if row.get("contact_email")}
        for pk, account_id, email in Contact.objects.filter(
            account_id__in=accounts.values(), email__in=wanted
        ).values_list("pk", "account_id", "email"):
            contacts[(account_id, email.lower())] = pk
    resolved = []
    for index, row in rows:
        row = dict(row)
        problems: dict[str, list[str]] = {}
        if "account" in row:
            ref = row.pop("account")
            if ref in accounts:
                row["account_id"] = accounts[ref]
            else:
                problems["account"] = [f"Unknown account {ref!r}."]
        for name, target in (("owner_email", "owner_id"), ("assignee_email", "assignee_id")):
            if name in row:
                email = row.pop(name)
                if not email:
                    row[target] = None
                elif email.lower() in users:
                    row[target] = users[email.lower()]
                else:
                    problems[name] = [f"No user with e-mail {email!r}."]
        if kind == "surveys":
            email = (row.pop("contact_email", "") or "").lower()
            row["contact_id"] = contacts.get((row.get("account_id"), email)) if email else None
        if problems:
            errors.append({"index": index, "errors": problems})
        else:
            resolved.append((index, row))
    return resolved, errors


def _key_of(kind: Kind, row: dict) -> tuple | None:
    for key in kind.keys:
        if all(row.get(f) not in (None, "") for f in key):
            return (key, *(row[f] for f in key))
    return None


def _duplicates(kind: Kind, rows: list[tuple[int, dict]]) -> list[dict]:
    seen: dict[tuple, int] = {}
    errors = []
    for index, row in rows:
        key = _key_of(kind, row)
        if key is None:
            continue
        if key in seen:
            errors.append(
                {"index": index, "errors": {key[0][0]: [f"Duplicate of row {seen[key]} in the same request."]}}
            )
        else:
            seen[key] = index
    return errors


def _unwritable_accounts(actor: AbstractBaseUser | None, account_ids: set[int]) -> set[int]:
    """The accounts among `account_ids` the actor may not edit. Managers, admins, API keys and the system write
    everywhere; a CSM only on the accounts they own."""
    if actor is None or getattr(actor, "api_key", None) is not None or actor.has_perm("accounts.assign_owner"):
        return set()
    owned = set(Account.objects.filter(pk__in=account_ids, owner=actor).values_list("pk", flat=True))
    return account_ids - owned


def _ensure_actor_may_write(actor: AbstractBaseUser | None, account_ids: set[int]) -> None:
    if _unwritable_accounts(actor, account_ids):
        raise PermissionDenied("You can only edit the accounts you own.")


def _has_account(model: type[models.Model]) -> bool:
    return any(f.name == "account" for f in model._meta.concrete_fields)


def _rows_guard(
    spec: Kind, rows: list[tuple[int, dict]], existing: dict[tuple, models.Model], actor: AbstractBaseUser | None
) -> tuple[list[dict], list[dict]]:
    """Object-level rules of an upsert; returns (forbidden rows, invalid rows) as per-row errors.

    - The actor must be allowed to edit the account of every row and, for rows that match an existing object, the
      account that object is on now (a CSM cannot overwrite a teammate's contact by naming its external id).
    - An upsert never moves an existing object to another account: the natural key names the object, not its
      owner. A move is an explicit `PATCH /api/v1/<kind>/<id>/`, which needs edit rights on both accounts.
    """
    if spec.model is not Account and not _has_account(spec.model):
        return [], []  # tags: shared, not on an account
    label = spec.model._meta.verbose_name
    matched: dict[int, models.Model] = {}
    for index, row in rows:
        key = _key_of(spec, row)
        if key is not None and key in existing:
            matched[index] = existing[key]
    if spec.model is Account:
        denied = _unwritable_accounts(actor, {obj.pk for obj in matched.values()})
        forbidden = [
            {"index": i, "errors": {"external_id": ["You can only edit the accounts you own."]}}
            for i, obj in matched.items()
            if obj.pk in denied
        ]
        return forbidden, []
    wanted = {row["account_id"] for _, row in rows if row.get("account_id")}
    denied = _unwritable_accounts(actor, wanted | {obj.account_id for obj in matched.values()})
    forbidden, invalid = [], []
    for index, row in rows:
        obj = matched.get(index)
        if obj is not None and obj.account_id in denied:
            message = f"This {label} belongs to an account you cannot edit."
            forbidden.append({"index": index, "errors": {"external_id": [message]}})
        elif row.get("account_id") in denied:
            forbidden.append({"index": index, "errors": {"account": ["You can only edit the accounts you own."]}})
        elif obj is not None and "account_id" in row and row["account_id"] != obj.account_id:
            message = (
                f"This {label} belongs to account {obj.account.external_id!r}; an upsert cannot move it to another "
                f"account (use PATCH on its id)."
            )
            invalid.append({"index": index, "errors": {"account": [message]}})
    return forbidden, invalid


# Kinds whose rows feed the health score: writing them marks their accounts for rescoring.
HEALTH_FACT_KINDS = frozenset({"accounts", "subscriptions", "tickets", "surveys"})


def facts_changed(account_ids) -> None:
    """Tell the derived-state hooks (the health app's rescoring) which accounts have new facts."""
    ids = sorted({int(pk) for pk in account_ids if pk is not None})
    if ids:
        derived.notify(derived.FACTS_CHANGED, ids)


def rows_upsert(
    *,
    kind: str,
    rows: list[tuple[int, dict]],
    actor: AbstractBaseUser | None = None,
    replay: bool = True,
    skip_invalid: bool = False,
) -> UpsertResult:
    """Create or update resolved rows by natural key in one SELECT, one bulk UPDATE and one bulk INSERT.

    Rows touching an account the actor may not edit raise RowsForbidden (nothing written). Rows that would move an
    existing object to another account raise RowErrors, or with `skip_invalid` are left out and reported in
    `result.errors` (imports). New accounts and contacts with a product user id release the tracking messages
    waiting for them (`replay`).
    """
    spec = KINDS[kind]
    result = UpsertResult()
    if kind == "events":
        inserted = events_insert(rows=[row for _, row in rows])
        result.created = inserted
        result.unchanged = len(rows) - inserted
        return result
    model = spec.model
    tags_by_index = {index: row.pop("tags") for index, row in rows if "tags" in row}
    existing: dict[tuple, models.Model] = {}
    for key in spec.keys:
        keyed = [row for _, row in rows if _key_of(spec, row) and _key_of(spec, row)[0] == key]
        if not keyed:
            continue
        lookup = {f"{f}__in": {row[f] for row in keyed} for f in key}
        queryset = model.objects.filter(**lookup)
        if _has_account(model):
            queryset = queryset.select_related("account")
        for obj in queryset:
            existing[(key, *(getattr(obj, f) for f in key))] = obj
    forbidden, invalid = _rows_guard(spec, rows, existing, actor)
    if forbidden:
        raise RowsForbidden(forbidden)
    if invalid:
        if not skip_invalid:
            raise RowErrors(invalid)
        result.errors = invalid
        bad = {e["index"] for e in invalid}
        rows = [(index, row) for index, row in rows if index not in bad]
        tags_by_index = {index: names for index, names in tags_by_index.items() if index not in bad}
    to_create: list[tuple[int, models.Model]] = []
    to_update: dict[int, models.Model] = {}
    update_fields: set[str] = set()
    actions: dict[int, tuple[models.Model, str]] = {}
    for index, row in rows:
        key = _key_of(spec, row)
        obj = existing.get(key) if key else None
        if obj is None:
            if model is Account and "name" not in row:
                row["name"] = row["external_id"]
            obj = model(**row)
            to_create.append((index, obj))
            actions[index] = (obj, "created")
            continue
        changed = False
        for name, value in row.items():
            if name == "custom_attributes":
                value = {**obj.custom_attributes, **value}
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                update_fields.add(name)
                changed = True
        if changed:
            to_update[obj.pk] = obj
        actions[index] = (obj, "updated" if changed else "unchanged")
    if to_update:
        if model is Account:
            update_fields.add("updated_at")
        model.objects.bulk_update(list(to_update.values()), sorted(update_fields), batch_size=500)
    if to_create:
        _creation_defaults(kind, [obj for _, obj in to_create], actor)
        model.objects.bulk_create([obj for _, obj in to_create], batch_size=500)
    if kind == "tasks" and to_create:
        from accounts.services import task_webhook_payload

        derived.notify(derived.TASK_CREATED, [task_webhook_payload(obj) for _, obj in to_create])
    if tags_by_index:
        _account_tags_set({actions[i][0].pk: names for i, names in tags_by_index.items()})
    for index, _ in rows:
        obj, action = actions[index]
        setattr(result, action, getattr(result, action) + 1)
        result.results.append({"index": index, "id": obj.pk, "action": action})
    if kind in HEALTH_FACT_KINDS:
        facts_changed(
            obj.pk if kind == "accounts" else obj.account_id
            for obj, action in actions.values()
            if action != "unchanged"
        )
    if replay and kind in ("accounts", "contacts"):
        from accounts.tracking import pending_messages_replay

        if kind == "accounts":
            pending_messages_replay(group_ids=[obj.external_id for _, obj in to_create])
            from accounts.webhooks import helpdesk_unmatched_replay

            helpdesk_unmatched_replay(
                external_ids=[obj.external_id for obj, _ in actions.values()],
                domains=[obj.domain for obj, _ in actions.values() if obj.domain],
            )
            customers = [row["billing_customer_id"] for _, row in rows if row.get("billing_customer_id")]
            if customers:
                from accounts.webhooks_stripe import stripe_unmatched_replay

                stripe_unmatched_replay(customer_ids=customers)
        else:
            pending_messages_replay(user_ids=[obj.user_id for obj, _ in actions.values() if obj.user_id])
    return result


def _creation_defaults(kind: str, objs: list[models.Model], actor: AbstractBaseUser | None) -> None:
    """New tasks go to the account owner unless assigned; new activities are authored by the signed-in user."""
    if kind == "tasks":
        owners = dict(Account.objects.filter(pk__in={o.account_id for o in objs}).values_list("pk", "owner_id"))
        for obj in objs:
            obj.assignee_id = obj.assignee_id or owners.get(obj.account_id)
            if actor is not None and getattr(actor, "api_key", None) is None:
                obj.created_by = actor
    elif kind == "activities" and actor is not None and getattr(actor, "api_key", None) is None:
        for obj in objs:
            obj.author = actor


def _account_tags_set(tags: dict[int, list[str]]) -> None:
    names = {name for names in tags.values() for name in names}
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    by_name = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
    through = Account.tags.through
    through.objects.filter(account_id__in=tags).delete()
    through.objects.bulk_create(
        [through(account_id=a, tag_id=by_name[n]) for a, names in tags.items() for n in set(names)]
    )


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
    errors += more + _duplicates(KINDS[kind], resolved + waiting)
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


PENDING_TICKETS_SOURCE = "api"


def tickets_pending_sync(*, stored: list[str], waiting: list[dict]) -> None:
    """Keep REST ticket rows whose account is unknown (one record per ticket id, the latest row wins) and retire
    the kept rows of tickets just stored with a known account, so a late replay never overwrites them."""
    from accounts.models import InboundWebhookEvent, InboundWebhookStatus

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


def chunk_upsert(*, kind: str, rows: list[tuple[int, Any]]) -> tuple[UpsertResult, list[dict]]:
    """Imports: write the valid rows of a chunk, return the errors of the others (per-row semantics)."""
    valid, errors = rows_validate(kind=kind, rows=rows)
    resolved, more = rows_resolve(kind=kind, rows=valid)
    dupes = _duplicates(KINDS[kind], resolved)
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
    _ensure_actor_may_write(actor, account_ids)
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
        _account_tags_set({obj.pk: tags})
    if kind in HEALTH_FACT_KINDS:
        facts_changed(account_ids or {obj.pk})
    if isinstance(obj, Account) and ("domain" in changes or "external_id" in changes):
        from accounts.webhooks import helpdesk_unmatched_replay

        helpdesk_unmatched_replay(external_ids=[obj.external_id], domains=[obj.domain] if obj.domain else [])
    return obj


def event_day_pairs(rows: Iterable[dict]) -> set[tuple[int, dt.date]]:
    """The (account_id, UTC day) pairs touched by event rows, for incremental rollups."""
    return {(row["account_id"], row["occurred_at"].astimezone(dt.UTC).date()) for row in rows}
