"""The same actions for many accounts at once (a rule's executions, chunk by chunk): one statement per kind of
change, one outcome per account."""

from __future__ import annotations

import datetime as dt
import logging

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccountStatus, Contact, LifecycleStage, Task, TaskPriority
from accounts.services import (
    accounts_add_tag_bulk,
    accounts_remove_tag_bulk,
    accounts_set_lifecycle_stage_bulk,
    accounts_set_status_bulk,
    tasks_create_bulk,
)
from automations.actions.context import (
    ActionContext,
    ActionError,
    Outcome,
    fixed_users,
    text_param,
    users_param,
    why_of_lazy,
    why_of_shared,
)
from churnapp.templatetags.people import display_name
from health import selectors as health_selectors
from messaging.email.outbox import email_queue_many
from messaging.email.render import email_context, email_render_source
from messaging.models import EmailTemplate, WebhookEndpoint
from messaging.notifications import notify_many as notify_items
from messaging.webhooks import webhook_emit_many

logger = logging.getLogger(__name__)


def create_task_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    fixed = fixed_users(spec.get("assignee"))
    if fixed is not None and not fixed:
        raise ActionError(_("No user for assignee %(assignee)r.") % {"assignee": spec.get("assignee")})
    priority = spec.get("priority", TaskPriority.NORMAL)
    if priority not in TaskPriority.values:
        raise ActionError(_("Unknown priority %(priority)r.") % {"priority": priority})
    due_in = spec.get("due_in_days")
    due_date = timezone.localdate() + dt.timedelta(days=int(due_in)) if due_in is not None else None
    tasks = tasks_create_bulk(
        tasks=[
            Task(
                account=ctx.account,
                title=text_param(spec.get("title") or ctx.label, ctx)[:255],
                assignee=fixed[0] if fixed else ctx.account.owner,
                due_date=due_date,
                priority=priority,
                description=(text_param(spec.get("description", ""), ctx) + "\n\n" + why_of_shared(ctx)).strip(),
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
        raise ActionError(_("Unknown status %(status)r.") % {"status": status})
    accounts_set_status_bulk(account_ids=[ctx.account.pk for ctx in ctxs], status=status)
    for ctx in ctxs:
        ctx.account.status, ctx.context = status, None
    return [(True, f"Status set to {status}")] * len(ctxs)


def set_stage_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    stage = spec.get("stage")
    if stage not in LifecycleStage.values:
        raise ActionError(_("Unknown lifecycle stage %(stage)r.") % {"stage": stage})
    accounts_set_lifecycle_stage_bulk(account_ids=[ctx.account.pk for ctx in ctxs], stage=stage)
    for ctx in ctxs:
        ctx.account.lifecycle_stage = stage
    return [(True, f"Stage set to {stage}")] * len(ctxs)


def add_tag_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    if not spec.get("tag"):
        raise ActionError(_("add_tag needs a tag."))
    accounts_add_tag_bulk(account_ids=[ctx.account.pk for ctx in ctxs], name=spec["tag"])
    return [(True, f"Tag {spec['tag']} added")] * len(ctxs)


def remove_tag_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    if not spec.get("tag"):
        raise ActionError(_("remove_tag needs a tag."))
    accounts_remove_tag_bulk(account_ids=[ctx.account.pk for ctx in ctxs], name=spec["tag"])
    return [(True, f"Tag {spec['tag']} removed")] * len(ctxs)


def send_email_many(spec: dict, ctxs: list[ActionContext]) -> list[Outcome]:
    template = EmailTemplate.objects.filter(key=spec.get("template")).first()
    if template is None:
        raise ActionError(_("No email template %(template)r.") % {"template": spec.get("template")})
    to = spec.get("to", "contact")
    if to not in ("contact", "owner"):
        raise ActionError(_("Unknown recipient %(to)r: use contact or owner.") % {"to": to})
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
            outcomes.append((False, _("The account has no contact with an email address.")))
            continue
        if to == "owner" and (not ctx.account.owner_id or not ctx.account.owner.email):
            outcomes.append((False, _("The account has no owner with an email address.")))
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
    fixed = fixed_users(spec.get("to"))
    items, out = [], []
    for ctx in ctxs:
        users = fixed if fixed is not None else users_param("owner", ctx.account)
        if not users:
            out.append((False, _("Nobody to notify for %(to)r.") % {"to": spec.get("to", "owner")}))
            continue
        items.append(
            {
                "users": users,
                "title": text_param(spec.get("title") or ctx.label, ctx),
                "body": text_param(spec.get("body", ""), ctx) or why_of_lazy(ctx),
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
