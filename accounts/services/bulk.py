"""Bulk writes for automation rules: one statement per kind of change, with audit entries and webhooks in bulk."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, AccountStatus, Activity, LifecycleStage, Tag, Task
from accounts.services._common import change_entry
from accounts.services.tasks import task_webhook_payload
from churnapp import hooks


def tasks_create_bulk(*, tasks: list[Task], batch_size: int = 2000) -> list[Task]:
    """Create many system tasks at once (unsaved `Task` instances; unassigned ones go to the account owner).

    One INSERT per batch, and their `task.created` webhooks queued in one INSERT.
    """
    for task in tasks:
        if task.assignee_id is None and task.account.owner_id:
            task.assignee_id = task.account.owner_id
    created = Task.objects.bulk_create(tasks, batch_size=batch_size)
    hooks.notify(hooks.TASK_CREATED, [task_webhook_payload(t) for t in created])
    return created


def _set_field_bulk(*, account_ids: list[int], field: str, value: str, choices) -> list[Account]:
    changing = list(Account.objects.filter(pk__in=account_ids).exclude(**{field: value}).order_by("pk"))
    if not changing:
        return []
    labels = dict(choices.choices)
    entries = [
        change_entry(account=a, actor=None, field=field, old=labels.get(getattr(a, field), ""), new=labels[value])
        for a in changing
    ]
    Account.objects.filter(pk__in=[a.pk for a in changing]).update(**{field: value, "updated_at": timezone.now()})
    Activity.objects.bulk_create(entries, batch_size=2000)
    return changing


@transaction.atomic
def accounts_set_status_bulk(*, account_ids: list[int], status: str) -> set[int]:
    """The system changes many accounts' status: one UPDATE, an audit entry each and their webhooks in bulk.

    Returns the ids that changed (the others had that status already).
    """
    if status not in AccountStatus.values:
        raise ValueError(f"Unknown status {status!r}.")
    changed = _set_field_bulk(account_ids=account_ids, field="status", value=status, choices=AccountStatus)
    hooks.notify(
        hooks.ACCOUNT_STATUS_CHANGED,
        [{"account_id": a.pk, "external_id": a.external_id, "old": a.status, "new": status} for a in changed],
    )
    return {a.pk for a in changed}


@transaction.atomic
def accounts_set_lifecycle_stage_bulk(*, account_ids: list[int], stage: str) -> set[int]:
    """The system moves many accounts to a lifecycle stage: one UPDATE, an audit entry each. Returns the changed ids."""
    if stage not in LifecycleStage.values:
        raise ValueError(f"Unknown lifecycle stage {stage!r}.")
    changed = _set_field_bulk(account_ids=account_ids, field="lifecycle_stage", value=stage, choices=LifecycleStage)
    return {a.pk for a in changed}


def accounts_add_tag_bulk(*, account_ids: list[int], name: str) -> None:
    """Put a tag (created when new) on many accounts in one INSERT; accounts carrying it already are unchanged."""
    tag, _ = Tag.objects.get_or_create(name=name)
    through = Account.tags.through
    through.objects.bulk_create(
        [through(account_id=pk, tag_id=tag.pk) for pk in set(account_ids)], ignore_conflicts=True, batch_size=5000
    )


def accounts_remove_tag_bulk(*, account_ids: list[int], name: str) -> None:
    """Take a tag off many accounts in one DELETE."""
    Account.tags.through.objects.filter(account_id__in=account_ids, tag__name=name).delete()
