"""Each action for one account (a playbook step, a rule's execution retried alone), inside the caller's
transaction and keyed for idempotency."""

from __future__ import annotations

import datetime as dt
import logging

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccountStatus, LifecycleStage, TaskPriority
from accounts.services import (
    account_add_tag,
    account_remove_tag,
    account_set_lifecycle_stage,
    account_set_status,
    task_create,
)
from automations.actions.context import (
    ActionContext,
    ActionError,
    text_param,
    users_param,
    why_of_lazy,
    why_of_shared,
)
from churnapp.templatetags.people import display_name
from messaging.email.outbox import email_queue_template
from messaging.models import EmailTemplate
from messaging.notifications import notify
from messaging.webhooks import webhook_emit

logger = logging.getLogger(__name__)


def create_task(spec: dict, ctx: ActionContext) -> str:
    assignees = users_param(spec.get("assignee"), ctx.account)
    if spec.get("assignee", "owner") != "owner" and not assignees:
        raise ActionError(_("No user for assignee %(assignee)r.") % {"assignee": spec.get("assignee")})
    priority = spec.get("priority", TaskPriority.NORMAL)
    if priority not in TaskPriority.values:
        raise ActionError(_("Unknown priority %(priority)r.") % {"priority": priority})
    due_in = spec.get("due_in_days")
    task = task_create(
        account=ctx.account,
        title=text_param(spec.get("title") or ctx.label, ctx)[:255],
        created_by=None,
        assignee=assignees[0] if assignees else None,
        due_date=timezone.localdate() + dt.timedelta(days=int(due_in)) if due_in is not None else None,
        priority=priority,
        description=(text_param(spec.get("description", ""), ctx) + "\n\n" + why_of_shared(ctx)).strip(),
        source=ctx.source,
    )
    ctx.created_task = task
    return f"Task #{task.pk} “{task.title}” for {display_name(task.assignee, 'nobody (no owner)')}"


def set_status(spec: dict, ctx: ActionContext) -> str:
    status = spec.get("status")
    if status not in AccountStatus.values:
        raise ActionError(_("Unknown status %(status)r.") % {"status": status})
    account_set_status(account=ctx.account, status=status, actor=None)
    return f"Status set to {status}"


def set_stage(spec: dict, ctx: ActionContext) -> str:
    stage = spec.get("stage")
    if stage not in LifecycleStage.values:
        raise ActionError(_("Unknown lifecycle stage %(stage)r.") % {"stage": stage})
    account_set_lifecycle_stage(account=ctx.account, stage=stage, actor=None)
    return f"Stage set to {stage}"


def add_tag(spec: dict, ctx: ActionContext) -> str:
    if not spec.get("tag"):
        raise ActionError(_("add_tag needs a tag."))
    account_add_tag(account=ctx.account, name=spec["tag"])
    return f"Tag {spec['tag']} added"


def remove_tag(spec: dict, ctx: ActionContext) -> str:
    if not spec.get("tag"):
        raise ActionError(_("remove_tag needs a tag."))
    account_remove_tag(account=ctx.account, name=spec["tag"])
    return f"Tag {spec['tag']} removed"


def send_email(spec: dict, ctx: ActionContext) -> str:
    key = spec.get("template")
    if not EmailTemplate.objects.filter(key=key).exists():
        raise ActionError(_("No email template %(template)r.") % {"template": key})
    to = spec.get("to", "contact")
    contact = None
    if to == "contact":
        contact = ctx.account.contacts.exclude(email="").order_by("-is_primary", "pk").first()
        if contact is None:
            raise ActionError(_("The account has no contact with an email address."))
        address = contact.email
    elif to == "owner":
        if not ctx.account.owner_id or not ctx.account.owner.email:
            raise ActionError(_("The account has no owner with an email address."))
        address = ctx.account.owner.email
    else:
        raise ActionError(_("Unknown recipient %(to)r: use contact or owner.") % {"to": to})
    message = email_queue_template(
        template_key=key,
        to_email=address,
        account=ctx.account,
        contact=contact,
        source=ctx.source,
        dedupe_key=ctx.key,
    )
    reason = f" — {message.status_reason}" if message.status_reason else ""
    return f"Email “{message.subject}” to {address}: {message.status}{reason}"


def notify_users(spec: dict, ctx: ActionContext) -> str:
    users = users_param(spec.get("to"), ctx.account)
    if not users:
        raise ActionError(_("Nobody to notify for %(to)r.") % {"to": spec.get("to", "owner")})
    notify(
        users=users,
        title=text_param(spec.get("title") or ctx.label, ctx),
        body=text_param(spec.get("body", ""), ctx) or why_of_lazy(ctx),
        url=reverse("account-detail", args=[ctx.account.pk]),
        account=ctx.account,
        email=bool(spec.get("email")),
        slack=spec.get("slack", True),
        dedupe_key=ctx.key,
    )
    return f"Notified {', '.join(display_name(u) for u in users)}"


def fire_webhook(spec: dict, ctx: ActionContext) -> str:
    event = spec.get("event", "rule.fired")
    deliveries = webhook_emit(
        event=event,
        payload={
            "account": {"id": ctx.account.pk, "external_id": ctx.account.external_id, "name": ctx.account.name},
            "source": ctx.source,
            "name": ctx.label,
            "matched": ctx.matched,
            "key": ctx.key,
        },
    )
    return f"Webhook {event} queued to {len(deliveries)} endpoint(s)"
