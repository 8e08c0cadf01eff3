"""Write the trail: every save and delete of an audited model through the ORM, and the set-based writes that say
what they changed (`record_changes`), in the same transaction as the change itself."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save

from audit.context import current
from audit.models import Action, AuditEntry
from audit.registry import ALWAYS_EXCLUDED, AUDITED, HIDDEN, Audited

LABEL_ATTRIBUTES = ("name", "title", "subject", "email", "key", "username", "product", "issue_type")
BATCH_SIZE = 1000
_UNKNOWN = object()


@dataclass(frozen=True)
class Tracked:
    spec: Audited
    object_type: str
    fields: tuple[str, ...]  # attnames
    names: dict[str, str]  # attname → field name, for update_fields


@dataclass(frozen=True)
class Change:
    """One object's change in a set-based write, as the writer knows it."""

    object_id: object
    action: str
    changes: dict = field(default_factory=dict)
    account_id: int | None = None
    label: str = ""


_tracked: dict[type[models.Model], Tracked] = {}


def plain(value):
    """A value as JSON can hold it, readable in the trail."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
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


def _remember(sender, instance, **kwargs) -> None:
    values = instance.__dict__
    instance._audit_before = {name: values.get(name, _UNKNOWN) for name in _tracked[sender].fields}


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
    if raw or info.spec.skips(instance):
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
    if info.spec.skips(instance):
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
    if info is None:
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
    """Record a set-based write (bulk upsert, bulk edit, rule action) as one INSERT per thousand objects."""
    info = _tracked[model]
    door, actor = current()
    batch = str(uuid.uuid4())
    entries = [
        AuditEntry(
            door=door,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label[:255],
            user_id=actor.user_id,
            object_type=info.object_type,
            object_id=str(change.object_id),
            object_label=change.label[:255],
            action=change.action,
            changes={name: _pair(info, name, value) for name, value in change.changes.items()},
            account_id=change.account_id,
            batch=batch,
        )
        for change in changes
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)
    return len(entries)


EMPTY = (None, "", {}, [])


def _label_of_values(values: dict) -> str:
    return next((str(values[a])[:255] for a in LABEL_ATTRIBUTES if values.get(a)), "")


def record_objects(model: type[models.Model], *, created=(), updated=()) -> int:
    """Record objects a set-based write created (saved, with their pks) and updated (`(obj, {field: (old, new)})`),
    as the writer knows them: no query but the entries' INSERT."""
    info = _tracked.get(model)
    if info is None:
        return 0
    account = info.spec.account
    changes = [
        Change(
            obj.pk,
            Action.CREATE,
            {name: (None, obj.__dict__[name]) for name in info.fields if obj.__dict__.get(name, None) not in EMPTY},
            getattr(obj, account) if account else None,
            _label(obj),
        )
        for obj in created
        if not info.spec.skips(obj)
    ]
    allowed = {name: attname for attname, name in info.names.items()} | {a: a for a in info.fields}
    for obj, diff in updated:
        kept = {
            allowed[name]: pair for name, pair in diff.items() if name in allowed and plain(pair[0]) != plain(pair[1])
        }
        if kept:
            changes.append(Change(obj.pk, Action.UPDATE, kept, getattr(obj, account) if account else None, _label(obj)))
    return record_changes(model, changes) if changes else 0


def update_recorded(queryset: models.QuerySet, **values) -> int:
    """`queryset.update(**values)` with an entry per row whose audited values change: one SELECT of the rows'
    current values, the UPDATE, and the entries' INSERT."""
    model = queryset.model
    info = _tracked.get(model)
    if info is None:
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


def connect() -> None:
    for spec in AUDITED:
        model = apps.get_model(spec.model)
        excluded = ALWAYS_EXCLUDED | spec.exclude
        fields = [f for f in model._meta.concrete_fields if f.name not in excluded]
        _tracked[model] = Tracked(
            spec, model._meta.label_lower, tuple(f.attname for f in fields), {f.attname: f.name for f in fields}
        )
        uid = f"audit-{model._meta.label_lower}"
        post_init.connect(_remember, sender=model, weak=False, dispatch_uid=uid)
        post_save.connect(_saved, sender=model, weak=False, dispatch_uid=uid)
        post_delete.connect(_deleted, sender=model, weak=False, dispatch_uid=uid)
        for relation in model._meta.many_to_many:
            m2m_changed.connect(
                _related_changed,
                sender=relation.remote_field.through,
                weak=False,
                dispatch_uid=f"{uid}-{relation.name}",
            )
