"""Rule and playbook actions: create task, set status / stage, add / remove tag, send email, notify, enrol in a
playbook, fire an outgoing webhook. Each runs inside the caller's transaction and is keyed for idempotency."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, AccountStatus, Contact, LifecycleStage, Task, TaskPriority
from accounts.services import (
    account_add_tag,
    account_remove_tag,
    account_set_lifecycle_stage,
    account_set_status,
    accounts_add_tag_bulk,
    accounts_remove_tag_bulk,
    accounts_set_lifecycle_stage_bulk,
    accounts_set_status_bulk,
    task_create,
    tasks_create_bulk,
)
from churnapp.templatetags.formatting import human_value
from churnapp.templatetags.people import display_name
from health import selectors as health_selectors
from messaging.email.outbox import email_queue_many, email_queue_template
from messaging.email.render import email_context, email_render_source, render_string
from messaging.models import EmailTemplate, WebhookEndpoint
from messaging.notifications import notify
from messaging.notifications import notify_many as notify_items
from messaging.webhooks import webhook_emit, webhook_emit_many

logger = logging.getLogger(__name__)


class ActionError(ValueError):
    """An action is misconfigured or cannot run for this account (shown on the execution log)."""


@dataclass
class ActionContext:
    account: Account
    source: str  # "rule" / "playbook"
    key: str  # idempotency prefix: "rule-exec:<id>:<index>" or "enrolment:<id>:<order>"
    label: str  # the rule or playbook name, for messages
    matched: dict[str, Any] = field(default_factory=dict)
    created_task: Any = None
    context: dict | None = None  # the rendering context, built once per account and action


Outcome = tuple[bool, str]  # (ok, detail) of one action for one account


def _users(spec: str | None, account: Account | None) -> list:
    """'owner', 'role:<Role>' (every active member) or 'user:<username>'."""
    User = get_user_model()
    spec = spec or "owner"
    if spec == "owner":
        return [account.owner] if account is not None and account.owner_id else []
    if spec.startswith("role:"):
        return list(User.objects.filter(is_active=True, groups__name=spec[5:]).order_by("pk"))
    if spec.startswith("user:"):
        return list(User.objects.filter(is_active=True, username=spec[5:]))
    raise ActionError(f"Unknown recipient {spec!r}: use owner, role:<Role> or user:<username>.")


def _text(template: str, ctx: ActionContext) -> str:
    if ctx.context is None:
        ctx.context = email_context(
            account=ctx.account,
            extra={"match": {k.replace(" ", "_"): v for k, v in ctx.matched.items()}},
            features=None if "features_used" in template else [],
        )
    return render_string(template, ctx.context)


def _why(ctx: ActionContext) -> str:
    lines = [f"Created by {ctx.source} “{ctx.label}”."]
    lines += [f"- {label}: {human_value(value)}" for label, value in ctx.matched.items()]
    return "\n".join(lines)


def create_task(spec: dict, ctx: ActionContext) -> str:
    assignees = _users(spec.get("assignee"), ctx.account)
    if spec.get("assignee", "owner") != "owner" and not assignees:
        raise ActionError(f"No user for assignee {spec.get('assignee')!r}.")
    priority = spec.get("priority", TaskPriority.NORMAL)
    if priority not in TaskPriority.values:
        raise ActionError(f"Unknown priority {priority!r}.")
    due_in = spec.get("due_in_days")
    task = task_create(
        account=ctx.account,
        title=_text(spec.get("title") or ctx.label, ctx)[:255],
        created_by=None,
        assignee=assignees[0] if assignees else None,
        due_date=timezone.localdate() + dt.timedelta(days=int(due_in)) if due_in is not None else None,
        priority=priority,
        description=(_text(spec.get("description", ""), ctx) + "\n\n" + _why(ctx)).strip(),
        source=ctx.source,
    )
    ctx.created_task = task
    return f"Task #{task.pk} “{task.title}” for {display_name(task.assignee, 'nobody (no owner)')}"


def set_status(spec: dict, ctx: ActionContext) -> str:
    status = spec.get("status")
    if status not in AccountStatus.values:
        raise ActionError(f"Unknown status {status!r}.")
    account_set_status(account=ctx.account, status=status, actor=None)
    return f"Status set to {status}"


def set_stage(spec: dict, ctx: ActionContext) -> str:
    stage = spec.get("stage")
    if stage not in LifecycleStage.values:
        raise ActionError(f"Unknown lifecycle stage {stage!r}.")
    account_set_lifecycle_stage(account=ctx.account, stage=stage, actor=None)
    return f"Stage set to {stage}"


def add_tag(spec: dict, ctx: ActionContext) -> str:
    if not spec.get("tag"):
        raise ActionError("add_tag needs a tag.")
    account_add_tag(account=ctx.account, name=spec["tag"])
    return f"Tag {spec['tag']} added"


def remove_tag(spec: dict, ctx: ActionContext) -> str:
    if not spec.get("tag"):
        raise ActionError("remove_tag needs a tag.")
    account_remove_tag(account=ctx.account, name=spec["tag"])
    return f"Tag {spec['tag']} removed"


def send_email(spec: dict, ctx: ActionContext) -> str:
    key = spec.get("template")
    if not EmailTemplate.objects.filter(key=key).exists():
        raise ActionError(f"No email template {key!r}.")
    to = spec.get("to", "contact")
    contact = None
    if to == "contact":
        contact = ctx.account.contacts.exclude(email="").order_by("-is_primary", "pk").first()
        if contact is None:
            raise ActionError("The account has no contact with an email address.")
        address = contact.email
    elif to == "owner":
        if not ctx.account.owner_id or not ctx.account.owner.email:
            raise ActionError("The account has no owner with an email address.")
        address = ctx.account.owner.email
    else:
        raise ActionError(f"Unknown recipient {to!r}: use contact or owner.")
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
    users = _users(spec.get("to"), ctx.account)
    if not users:
        raise ActionError(f"Nobody to notify for {spec.get('to', 'owner')!r}.")
    notify(
        users=users,
        title=_text(spec.get("title") or ctx.label, ctx),
        body=_text(spec.get("body", ""), ctx) or _why(ctx),
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


# --- The same actions for many accounts at once (a rule's executions, chunk by chunk) -------------------------------
#
# Each takes the contexts of one action of one rule and returns one outcome per context, in order; a problem of
# one account (no contact, no owner) is that account's failed outcome, a misconfigured action raises ActionError.


def _fixed_users(spec: str | None) -> list | None:
    """The users of a recipient that does not depend on the account (None for 'owner')."""
    return None if (spec or "owner") == "owner" else _users(spec, None)


def create_task_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    fixed = _fixed_users(spec.get("assignee"))
    if fixed is not None and not fixed:
        raise ActionError(f"No user for assignee {spec.get('assignee')!r}.")
    priority = spec.get("priority", TaskPriority.NORMAL)
    if priority not in TaskPriority.values:
        raise ActionError(f"Unknown priority {priority!r}.")
    due_in = spec.get("due_in_days")
    due_date = timezone.localdate() + dt.timedelta(days=int(due_in)) if due_in is not None else None
    tasks = tasks_create_bulk(
        tasks=[
            Task(
                account=ctx.account,
                title=_text(spec.get("title") or ctx.label, ctx)[:255],
                assignee=fixed[0] if fixed else ctx.account.owner,
                due_date=due_date,
                priority=priority,
                description=(_text(spec.get("description", ""), ctx) + "\n\n" + _why(ctx)).strip(),
                source=ctx.source,
            )
            for ctx in ctxs
        ]
    )
    for ctx, task in zip(ctxs, tasks, strict=True):
        ctx.created_task = task
    return [(True, f"Task #{t.pk} “{t.title}” for {display_name(t.assignee, 'nobody (no owner)')}") for t in tasks]


def set_status_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    status = spec.get("status")
    if status not in AccountStatus.values:
        raise ActionError(f"Unknown status {status!r}.")
    accounts_set_status_bulk(account_ids=[ctx.account.pk for ctx in ctxs], status=status)
    for ctx in ctxs:
        ctx.account.status, ctx.context = status, None
    return [(True, f"Status set to {status}")] * len(ctxs)


def set_stage_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    stage = spec.get("stage")
    if stage not in LifecycleStage.values:
        raise ActionError(f"Unknown lifecycle stage {stage!r}.")
    accounts_set_lifecycle_stage_bulk(account_ids=[ctx.account.pk for ctx in ctxs], stage=stage)
    for ctx in ctxs:
        ctx.account.lifecycle_stage = stage
    return [(True, f"Stage set to {stage}")] * len(ctxs)


def add_tag_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    if not spec.get("tag"):
        raise ActionError("add_tag needs a tag.")
    accounts_add_tag_bulk(account_ids=[ctx.account.pk for ctx in ctxs], name=spec["tag"])
    return [(True, f"Tag {spec['tag']} added")] * len(ctxs)


def remove_tag_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    if not spec.get("tag"):
        raise ActionError("remove_tag needs a tag.")
    accounts_remove_tag_bulk(account_ids=[ctx.account.pk for ctx in ctxs], name=spec["tag"])
    return [(True, f"Tag {spec['tag']} removed")] * len(ctxs)


def send_email_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    template = EmailTemplate.objects.filter(key=spec.get("template")).first()
    if template is None:
        raise ActionError(f"No email template {spec.get('template')!r}.")
    to = spec.get("to", "contact")
    if to not in ("contact", "owner"):
        raise ActionError(f"Unknown recipient {to!r}: use contact or owner.")
    first_contact: dict[int, Contact] = {}
    if to == "contact":
        contacts = Contact.objects.filter(account_id__in={ctx.account.pk for ctx in ctxs}).exclude(email="")
        for contact in contacts.order_by("account_id", "-is_primary", "pk"):
            first_contact.setdefault(contact.account_id, contact)
    sources = template.subject + template.body_text + template.body_html
    features = health_selectors.features_adopted(
        account_ids=[c.account.pk for c in ctxs] if "features_used" in sources else []
    )
    outcomes: list[Outcome | None] = []
    messages = []
    for ctx in ctxs:
        contact = first_contact.get(ctx.account.pk) if to == "contact" else None
        if to == "contact" and contact is None:
            outcomes.append((False, "The account has no contact with an email address."))
            continue
        if to == "owner" and (not ctx.account.owner_id or not ctx.account.owner.email):
            outcomes.append((False, "The account has no owner with an email address."))
            continue
        subject, text, html = email_render_source(
            subject=template.subject,
            body_text=template.body_text,
            body_html=template.body_html,
            context=email_context(account=ctx.account, contact=contact, features=features.get(ctx.account.pk, [])),
        )
        messages.append(
            {
                "to_email": contact.email if contact is not None else ctx.account.owner.email,
                "subject": subject,
                "body_text": text,
                "body_html": html,
                "account": ctx.account,
                "contact": contact,
                "template": template,
                "source": ctx.source,
                "dedupe_key": ctx.key,
            }
        )
        outcomes.append(None)
    queued = iter(email_queue_many(messages=messages))
    out: list[Outcome] = []
    for outcome in outcomes:
        if outcome is None:
            message = next(queued)
            reason = f" — {message.status_reason}" if message.status_reason else ""
            outcome = (True, f"Email “{message.subject}” to {message.to_email}: {message.status}{reason}")
        out.append(outcome)
    return out


def notify_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    fixed = _fixed_users(spec.get("to"))
    items, out = [], []
    for ctx in ctxs:
        users = fixed if fixed is not None else _users("owner", ctx.account)
        if not users:
            out.append((False, f"Nobody to notify for {spec.get('to', 'owner')!r}."))
            continue
        items.append(
            {
                "users": users,
                "title": _text(spec.get("title") or ctx.label, ctx),
                "body": _text(spec.get("body", ""), ctx) or _why(ctx),
                "url": reverse("account-detail", args=[ctx.account.pk]),
                "account": ctx.account,
                "dedupe_key": ctx.key,
            }
        )
        out.append((True, f"Notified {', '.join(display_name(u) for u in users)}"))
    notify_items(items=items, email=bool(spec.get("email")), slack=spec.get("slack", True), label=ctxs[0].label)
    return out


def fire_webhook_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    event = spec.get("event", "rule.fired")
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if event in e.events]
    webhook_emit_many(
        event=event,
        endpoints=endpoints,
        payloads=[
            {
                "account": {"id": ctx.account.pk, "external_id": ctx.account.external_id, "name": ctx.account.name},
                "source": ctx.source,
                "name": ctx.label,
                "matched": ctx.matched,
                "key": ctx.key,
            }
            for ctx in ctxs
        ],
    )
    return [(True, f"Webhook {event} queued to {len(endpoints)} endpoint(s)")] * len(ctxs)


MANY: dict[str, Any] = {
    "create_task": create_task_many,
    "set_status": set_status_many,
    "set_stage": set_stage_many,
    "add_tag": add_tag_many,
    "remove_tag": remove_tag_many,
    "send_email": send_email_many,
    "notify": notify_many,
    "webhook": fire_webhook_many,
}


ACTIONS: dict[str, tuple[str, Any]] = {
    "create_task": ("Create task (title, assignee: owner | role:X | user:x, priority, due_in_days)", create_task),
    "set_status": ("Set status (status)", set_status),
    "set_stage": ("Set lifecycle stage (stage)", set_stage),
    "add_tag": ("Add tag (tag)", add_tag),
    "remove_tag": ("Remove tag (tag)", remove_tag),
    "send_email": ("Send email template (template, to: contact | owner)", send_email),
    "notify": ("Notify (to: owner | role:X | user:x, title, body, email, slack)", notify_users),
    "webhook": ("Fire outgoing webhook (event)", fire_webhook),
}


def register(kind: str, *, label: str, one, many) -> None:
    """Add an action kind defined by another module of this app (playbooks registers `enrol_playbook`, which needs
    the playbook engine: actions cannot import it, the engine runs actions)."""
    ACTIONS[kind] = (label, one)
    MANY[kind] = many


def validate(actions: list) -> None:
    if not isinstance(actions, list) or not actions:
        raise ActionError("A rule needs at least one action.")
    for action in actions:
        if not isinstance(action, dict) or action.get("type") not in ACTIONS:
            raise ActionError(f"Unknown action {action!r}.")


def run(spec: dict, ctx: ActionContext) -> str:
    kind = spec.get("type")
    if kind not in ACTIONS:
        raise ActionError(f"Unknown action type {kind!r}.")
    return ACTIONS[kind][1](spec, ctx)


def run_many_isolated(spec: dict, ctxs: list[ActionContext], *, what: str) -> list[Outcome]:
    """`run_many` in a savepoint; failures become outcomes, never exceptions. A misconfigured action fails the
    same for every account; any other failure of the set-based run retries account by account, each in its own
    savepoint, so one bad account does not fail the others. `what` names the rule or step in the log."""
    try:
        with transaction.atomic():
            return run_many(spec, ctxs)
    except ActionError as exc:
        return [(False, str(exc))] * len(ctxs)
    except Exception as exc:
        logger.warning("%s: action %s failed set-based (%s); running it account by account", what, spec, exc)
    out: list[Outcome] = []
    for ctx in ctxs:
        try:
            with transaction.atomic():
                out.append((True, run(spec, ctx)))
        except Exception as exc:  # recorded on that account's log, shown in the UI: never silent
            out.append((False, str(exc)))
    return out


def run_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    """Run one action for many accounts at once (inside the caller's transaction): one outcome per context."""
    kind = spec.get("type")
    if kind not in MANY:
        raise ActionError(f"Unknown action type {kind!r}.")
    if not ctxs:
        return []
    return MANY[kind](spec, ctxs)
