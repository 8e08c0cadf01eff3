"""The generic set-based upsert: `rows_upsert` creates or updates resolved rows by natural key in one SELECT, one
bulk UPDATE and one bulk INSERT, after the object-level rules (who may write, no moves between accounts), and
marks the accounts whose health facts changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import models

from accounts.imports.events import events_insert
from accounts.imports.services._common import account_tags_set, key_of, unwritable_accounts
from accounts.imports.services.rows import KINDS, Kind, RowErrors, RowsForbidden
from accounts.models import Account
from accounts.services.tasks import task_webhook_payload
from audit.capture import record_objects
from churnapp import hooks

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


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
        key = key_of(spec, row)
        if key is not None and key in existing:
            matched[index] = existing[key]
    if spec.model is Account:
        denied = unwritable_accounts(actor, {obj.pk for obj in matched.values()})
        forbidden = [
            {"index": i, "errors": {"external_id": ["You can only edit the accounts you own."]}}
            for i, obj in matched.items()
            if obj.pk in denied
        ]
        return forbidden, []
    wanted = {row["account_id"] for _, row in rows if row.get("account_id")}
    denied = unwritable_accounts(actor, wanted | {obj.account_id for obj in matched.values()})
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
        hooks.notify(hooks.FACTS_CHANGED, ids)


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
        keyed = [row for _, row in rows if key_of(spec, row) and key_of(spec, row)[0] == key]
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
    diffs: dict[int, dict[str, tuple]] = {}  # pk → field → (old, new), for the audit trail
    actions: dict[int, tuple[models.Model, str]] = {}
    for index, row in rows:
        key = key_of(spec, row)
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
                diffs.setdefault(obj.pk, {})[name] = (getattr(obj, name), value)
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
    record_objects(
        model, created=[obj for _, obj in to_create], updated=[(obj, diffs[pk]) for pk, obj in to_update.items()]
    )
    if kind == "tasks" and to_create:
        hooks.notify(hooks.TASK_CREATED, [task_webhook_payload(obj) for _, obj in to_create])
    if tags_by_index:
        account_tags_set({actions[i][0].pk: names for i, names in tags_by_index.items()})
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
        created, objects = [obj for _, obj in to_create], [obj for obj, _ in actions.values()]
        hooks.notify(hooks.ACCOUNTS_UPSERTED, {"kind": kind, "rows": rows, "created": created, "objects": objects})
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
