"""Write the trail: every save and delete of an audited model through the ORM, and the set-based writes that say
what they changed (`record_changes`), in the same transaction as the change itself."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from audit.context import current
from audit.models import Action, AuditEntry
from audit.registry import ALWAYS_EXCLUDED, AUDITED, HIDDEN, Audited
from audit.writer import insert_rows

LABEL_ATTRIBUTES = ("name", "title", "subject", "email", "key", "username", "product", "issue_type")
_UNKNOWN = object()


@dataclass(frozen=True)
class Tracked:
    spec: Audited
    object_type: str
    fields: tuple[str, ...]  # attnames
    names: dict[str, str]  # attname → field name, for update_fields
    json_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """One object's change in a set-based write, as the writer knows it."""

    object_id: object
    action: str
    changes: dict = field(default_factory=dict)
    account_id: int | None = None
    label: str = ""


_tracked: dict[type[models.Model], Tracked] = {}
# Off only inside `recording(False)`, which the audit benchmark uses to time the same write without the trail.
_recording: ContextVar[bool] = ContextVar("audit_recording", default=True)


@contextmanager
def recording(enabled: bool) -> Iterator[None]:
    token = _recording.set(enabled)
    try:
        yield
    finally:
        _recording.reset(token)


_AS_IS = frozenset({type(None), bool, int, float, str, list, dict})


def plain(value):
    """A value as JSON can hold it, readable in the trail."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def tracked(model: type[models.Model]) -> Tracked | None:
    return _tracked.get(model)


def _label(instance: models.Model) -> str:
    for attribute in LABEL_ATTRIBUTES:
        value = instance.__dict__.get(attribute)
        if value:
            return str(value)[:255]
    return ""


def _remember(sender, instance) -> None:
    """Keep the values an object was loaded with: a shallow copy (C speed), JSON values copied deeply since code
    may change them in place."""
    if not _recording.get():
        return
    before = instance.__dict__.copy()
    for name in _tracked[sender].json_fields:
        value = before.get(name)
        if value:
            before[name] = copy.deepcopy(value)
    instance._audit_before = before


def _shown(info: Tracked, name: str, value):
    return HIDDEN if name in info.spec.secret else plain(value)


def _entry(info: Tracked, instance: models.Model, action: str, changes: dict, **extra) -> AuditEntry:
    door, actor = current()
    account_id = getattr(instance, info.spec.account, None) if info.spec.account else None
    return AuditEntry(
        door=door,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:255],
        user_id=actor.user_id,
        object_type=info.object_type,
        object_id=str(instance.pk),
        object_label=_label(instance),
        action=action,
        changes=changes,
        account_id=account_id,
        **extra,
    )


def _saved(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    info = _tracked[sender]
    if raw or info.spec.skips(instance) or not _recording.get():
        return
    before = getattr(instance, "_audit_before", {})
    names = (
        info.fields
        if update_fields is None
        else [name for name in info.fields if name in update_fields or info.names[name] in update_fields]
    )
    changes = {}
    for name in names:
        new = instance.__dict__.get(name, _UNKNOWN)
        old = None if created else before.get(name, _UNKNOWN)
        if new is _UNKNOWN or (created and new in (None, "", {}, [])):
            continue
        if old is _UNKNOWN:
            old = None
        if created or plain(old) != plain(new):
            changes[name] = [None if created else _shown(info, name, old), _shown(info, name, new)]
    if changes or created:
        _entry(info, instance, Action.CREATE if created else Action.UPDATE, changes).save(using=instance._state.db)
    _remember(sender, instance)


def _deleted(sender, instance, **kwargs) -> None:
    info = _tracked[sender]
    if info.spec.skips(instance) or not _recording.get():
        return
    values = instance.__dict__
    changes = {
        name: [_shown(info, name, values[name]), None]
        for name in info.fields
        if values.get(name, _UNKNOWN) not in (_UNKNOWN, None, "", {}, [])
    }
    _entry(info, instance, Action.DELETE, changes).save(using=instance._state.db)


def _related_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """Tags on an account, roles (groups) of a user: recorded on the owning object as names added or removed."""
    if reverse or action not in ("post_add", "post_remove", "pre_clear"):
        return
    info = _tracked.get(type(instance))
    if info is None or not _recording.get():
        return
    relation = next(f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender)
    if action == "pre_clear":
        names, key = [str(obj) for obj in getattr(instance, relation).all()], "removed"
    else:
        names, key = [str(obj) for obj in model._default_manager.filter(pk__in=pk_set)], action.removeprefix("post_")
        key = "added" if key == "add" else "removed"
    if names:
        _entry(info, instance, Action.UPDATE, {relation: {key: sorted(names)}}).save(using=instance._state.db)


def _pair(info: Tracked, name: str, value):
    """[before, after] of a field; a relation's {"added": […], "removed": […]} as it is."""
    if isinstance(value, dict):
        return value
    old, new = value
    return [_shown(info, name, old), _shown(info, name, new)]


def record_changes(model: type[models.Model], changes: Iterable[Change]) -> int:
    """Record a set-based write (bulk upsert, bulk edit, rule action) in one COPY (PostgreSQL) or executemany."""
    if not _recording.get():
        return 0
    info = _tracked[model]
    return _insert(
        info,
        [
            (c.object_id, c.action, {n: _pair(info, n, v) for n, v in c.changes.items()}, c.account_id, c.label)
            for c in changes
        ],
    )


def _insert(info: Tracked, changes: list[tuple]) -> int:
    """INSERT entries of (object id, action, final changes, account id, label), by the current actor and door."""
    door, actor = current()
    common = (timezone.now(), door, actor.kind, actor.id, actor.label[:255], actor.user_id, info.object_type,
              str(uuid.uuid4()))  # fmt: skip
    insert_rows(
        common, [(str(pk), label[:255], action, values, account) for pk, action, values, account, label in changes]
    )
    return len(changes)


def _label_of_values(values: dict) -> str:
    return next((str(values[a])[:255] for a in LABEL_ATTRIBUTES if values.get(a)), "")


def record_objects(model: type[models.Model], *, created=(), updated=()) -> int:
    """Record objects a set-based write created (saved, with their pks) and updated (`(obj, {field: (old, new)})`),
    as the writer knows them: no query but the entries' INSERT."""
    info = _tracked.get(model)
    if info is None or not _recording.get():
        return 0
    account, secret, skip = info.spec.account, info.spec.secret, info.spec.skip
    changes = []
    for obj in created:
        values = obj.__dict__
        if skip is not None and values.get(skip[0]) == skip[1]:
            continue
        # Values as they are: the writer serialises dates and decimals (orjson, `default=str`) as `plain` would.
        shown = {
            n: [None, v] for n in info.fields if (v := values.get(n)) is not None and v != "" and v != {} and v != []
        }
        for name in secret.intersection(shown):
            shown[name] = [None, HIDDEN]
        changes.append((obj.pk, Action.CREATE, shown, values.get(account) if account else None, _label(obj)))
    allowed = {name: attname for attname, name in info.names.items()} | {a: a for a in info.fields}
    for obj, diff in updated:
        kept = {}
        for name, (old, new) in diff.items():
            if name in allowed and plain(old) != plain(new):
                kept[allowed[name]] = [_shown(info, name, old), _shown(info, name, new)]
        if kept:
            changes.append((obj.pk, Action.UPDATE, kept, getattr(obj, account) if account else None, _label(obj)))
    return _insert(info, changes) if changes else 0


def update_recorded(queryset: models.QuerySet, **values) -> int:
    """`queryset.update(**values)` with an entry per row whose audited values change: one SELECT of the rows'
    current values, the UPDATE, and the entries' INSERT."""
    model = queryset.model
    info = _tracked.get(model)
    if info is None or not _recording.get():
        return queryset.update(**values)
    new = {}
    for name, value in values.items():
        attname = model._meta.get_field(name).attname
        if attname in info.fields:
            new[attname] = value.pk if isinstance(value, models.Model) else value
    account = info.spec.account
    label = next((a for a in LABEL_ATTRIBUTES if a in info.fields), None)
    columns = {"pk", *new, *([account] if account else []), *([label] if label else [])}
    with transaction.atomic():
        rows = list(queryset.values(*columns))
        count = queryset.update(**values)
        record_changes(
            model,
            [
                Change(
                    row["pk"],
                    Action.UPDATE,
                    {name: (row[name], value) for name, value in new.items() if plain(row[name]) != plain(value)},
                    row.get(account) if account else None,
                    _label_of_values(row),
                )
                for row in rows
                if any(plain(row[name]) != plain(value) for name, value in new.items())
            ],
        )
    return count


def _remember_on_load(model: type[models.Model]) -> None:
    """Objects loaded from the database remember their values (Django's documented `from_db` pattern); objects
    built in code and inserted in bulk pay nothing."""
    load = model.from_db.__func__

    def from_db(cls, db, field_names, values):
        instance = load(cls, db, field_names, values)
        _remember(cls, instance)
        return instance

    model.from_db = classmethod(from_db)


def connect() -> None:
    for spec in AUDITED:
        model = apps.get_model(spec.model)
        excluded = ALWAYS_EXCLUDED | spec.exclude
        fields = [f for f in model._meta.concrete_fields if f.name not in excluded]
        _tracked[model] = Tracked(
            spec,
            model._meta.label_lower,
            tuple(f.attname for f in fields),
            {f.attname: f.name for f in fields},
            tuple(f.attname for f in fields if isinstance(f, models.JSONField)),
        )
        uid = f"audit-{model._meta.label_lower}"
        _remember_on_load(model)
        post_save.connect(_saved, sender=model, weak=False, dispatch_uid=uid)
        post_delete.connect(_deleted, sender=model, weak=False, dispatch_uid=uid)
        for relation in model._meta.many_to_many:
            m2m_changed.connect(
                _related_changed,
                sender=relation.remote_field.through,
                weak=False,
                dispatch_uid=f"{uid}-{relation.name}",
            )
