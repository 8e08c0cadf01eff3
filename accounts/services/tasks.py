"""A CSM's tasks one at a time: creating one (with its `task.created` webhook) and completing it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

from accounts.models import Account, Task, TaskPriority, TaskSource, TaskStatus
from accounts.services._common import ensure_can_edit
from churnapp import hooks

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def task_create(
    *,
    account: Account,
    title: str,
    created_by: AbstractBaseUser | None,
    assignee: AbstractBaseUser | None = None,
    due_date: dt.date | None = None,
    priority: str = TaskPriority.NORMAL,
    description: str = "",
    source: str = TaskSource.MANUAL,
) -> Task:
    """Create a task on an account; unassigned tasks go to the account owner."""
    ensure_can_edit(created_by, account)
    task = Task.objects.create(
        account=account,
        title=title,
        description=description,
        assignee=assignee or account.owner,
        due_date=due_date,
        priority=priority,
        source=source,
        created_by=created_by,
    )
    hooks.notify(hooks.TASK_CREATED, [task_webhook_payload(task)])
    return task


def task_webhook_payload(task: Task) -> dict:
    """What outgoing `task.created` webhooks carry."""
    return {
        "task_id": task.pk,
        "account_id": task.account_id,
        "title": task.title,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "priority": task.priority,
        "source": task.source,
    }


def task_complete(*, task: Task, actor: AbstractBaseUser | None, outcome: str = "") -> Task:
    """Mark a task done with its outcome. The assignee may always complete their own task."""
    if actor is not None and task.assignee_id != actor.pk:
        ensure_can_edit(actor, task.account)
    if task.status == TaskStatus.OPEN:
        task.status = TaskStatus.DONE
        task.outcome = outcome
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "outcome", "completed_at"])
    return task
