"""Bulk writes for automation rules and bulk edits: one statement per kind of change, with an audit entry per
account that changes and webhooks in bulk. `actor=None` is the system (a rule, a playbook)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, AccountStatus, Activity, ActivityKind, LifecycleStage, Tag, Task
from accounts.services._common import change_entry, data_label
from accounts.services.tasks import task_webhook_payload
from audit.capture import Change, record_changes, record_objects
from audit.models import Action
from churnapp import hooks

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def tasks_create_bulk(*, tasks: list[Task], batch_size: int = 2000) -> list[Task]:
    """Create many system tasks at once (unsaved `Task` instances; unassigned ones go to the account owner).

    One INSERT per batch, and their `task.created` webhooks queued in one INSERT.
    """
    for task in tasks:
        if task.assignee_id is None and task.account.owner_id:
            task.assignee_id = task.account.owner_id
    created = Task.objects.bulk_create(tasks, batch_size=batch_size)
    record_objects(Task, created=created)
    hooks.notify(hooks.TASK_CREATED, [task_webhook_payload(t) for t in created])
    return created


def _set_field_bulk(
    *, account_ids: list[int], field: str, value: str, choices, actor: AbstractBaseUser | None
) -> list[Account]:
    changing = list(Account.objects.filter(pk__in=account_ids).exclude(**{field: value}).order_by("pk"))
    if not changing:
        return []
    entries = [
        change_entry(
            account=a,
            actor=actor,
            field=field,
            old=data_label(choices, getattr(a, field)) if getattr(a, field) in choices.values else "",
            new=data_label(choices, value),
        )
        for a in changing
    ]
    Account.objects.filter(pk__in=[a.pk for a in changing]).update(**{field: value, "updated_at": timezone.now()})
    record_objects(Account, updated=[(a, {field: (getattr(a, field), value)}) for a in changing])
    Activity.objects.bulk_create(entries, batch_size=2000)
    return changing


@transaction.atomic
def accounts_set_status_bulk(*, account_ids: list[int], status: str, actor: AbstractBaseUser | None = None) -> set[int]:
    """Change many accounts' status: one UPDATE, an audit entry each and their webhooks in bulk.

    Returns the ids that changed (the others had that status already).
    """
    if status not in AccountStatus.values:
        raise ValueError(_("Unknown status %(status)r.") % {"status": status})
    changed = _set_field_bulk(account_ids=account_ids, field="status", value=status, choices=AccountStatus, actor=actor)
    hooks.notify(
        hooks.ACCOUNT_STATUS_CHANGED,
        [{"account_id": a.pk, "external_id": a.external_id, "old": a.status, "new": status} for a in changed],
    )
    return {a.pk for a in changed}


@transaction.atomic
def accounts_set_lifecycle_stage_bulk(
    *, account_ids: list[int], stage: str, actor: AbstractBaseUser | None = None
) -> set[int]:
    """Move many accounts to a lifecycle stage: one UPDATE, an audit entry each. Returns the changed ids."""
    if stage not in LifecycleStage.values:
        raise ValueError(_("Unknown lifecycle stage %(stage)r.") % {"stage": stage})
    changed = _set_field_bulk(
        account_ids=account_ids, field="lifecycle_stage", value=stage, choices=LifecycleStage, actor=actor
    )
    return {a.pk for a in changed}


def _tag_entries(account_ids, *, name: str, added: bool, actor: AbstractBaseUser | None) -> list[Activity]:
    verb = "added" if added else "removed"
    return [
        Activity(
            account_id=pk,
            kind=ActivityKind.CHANGE,
            author=actor,
            subject=f"Tag “{name}” {verb}",
            details={"field": "tags", "old": "" if added else name, "new": name if added else ""},
        )
        for pk in sorted(account_ids)
    ]


@transaction.atomic
def accounts_add_tag_bulk(*, account_ids: list[int], name: str, actor: AbstractBaseUser | None = None) -> set[int]:
    """Put a tag (created when new) on many accounts in one INSERT, with an audit entry on each account that did
    not carry it yet. Returns those accounts' ids."""
    tag, _ = Tag.objects.get_or_create(name=name)
    through = Account.tags.through
    had = set(through.objects.filter(tag=tag, account_id__in=account_ids).values_list("account_id", flat=True))
    new = set(account_ids) - had
    through.objects.bulk_create(
        [through(account_id=pk, tag_id=tag.pk) for pk in new], ignore_conflicts=True, batch_size=5000
    )
    Activity.objects.bulk_create(_tag_entries(new, name=name, added=True, actor=actor), batch_size=2000)
    record_changes(Account, [Change(pk, Action.UPDATE, {"tags": {"added": [name]}}, pk) for pk in sorted(new)])
    return new


@transaction.atomic
def accounts_remove_tag_bulk(*, account_ids: list[int], name: str, actor: AbstractBaseUser | None = None) -> set[int]:
    """Take a tag off many accounts in one DELETE, with an audit entry on each account that carried it."""
    carrying = Account.tags.through.objects.filter(account_id__in=account_ids, tag__name=name)
    had = set(carrying.values_list("account_id", flat=True))
    carrying.delete()
    Activity.objects.bulk_create(_tag_entries(had, name=name, added=False, actor=actor), batch_size=2000)
    record_changes(Account, [Change(pk, Action.UPDATE, {"tags": {"removed": [name]}}, pk) for pk in sorted(had)])
    return had


@transaction.atomic
def accounts_set_attribute_bulk(
    *, account_ids: list[int], key: str, value: str, actor: AbstractBaseUser | None = None
) -> set[int]:
    """Set one custom attribute on many accounts (an empty value removes it): one UPDATE per batch, an audit entry
    per account whose value changes, and the accounts marked for rescoring (rules and health read attributes)."""
    changing = []
    entries = []
    diffs = []
    for account in Account.objects.filter(pk__in=account_ids).only("pk", "custom_attributes").order_by("pk"):
        attributes = dict(account.custom_attributes or {})
        old = attributes.get(key)
        if (old is None and value == "") or old == value:
            continue
        if value == "":
            attributes.pop(key)
        else:
            attributes[key] = value
        diffs.append((account, {"custom_attributes": (account.custom_attributes, attributes)}))
        account.custom_attributes = attributes
        account.updated_at = timezone.now()
        changing.append(account)
        old_text = "" if old is None else str(old)
        entries.append(change_entry(account=account, actor=actor, field=f"attribute {key}", old=old_text, new=value))
    Account.objects.bulk_update(changing, ["custom_attributes", "updated_at"], batch_size=500)
    record_objects(Account, updated=diffs)
    Activity.objects.bulk_create(entries, batch_size=2000)
    ids = {a.pk for a in changing}
    if ids:
        hooks.notify(hooks.FACTS_CHANGED, sorted(ids))
    return ids
