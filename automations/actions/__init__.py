"""Rule and playbook actions: create task, set status / stage, add / remove tag, send email, notify, enrol in a
playbook (registered by `automations.playbook_actions`), fire an outgoing webhook. Each runs inside the caller's
transaction and is keyed for idempotency. This module is the registry and the way to run them; the actions are in
`one` (per account) and `many` (set-based)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from automations.actions.context import ActionContext, ActionError, Outcome
from automations.actions.many import (
    add_tag_many,
    create_task_many,
    fire_webhook_many,
    notify_many,
    remove_tag_many,
    send_email_many,
    set_stage_many,
    set_status_many,
)
from automations.actions.one import (
    add_tag,
    create_task,
    fire_webhook,
    notify_users,
    remove_tag,
    send_email,
    set_stage,
    set_status,
)

__all__ = [
    "ACTIONS",
    "MANY",
    "ActionContext",
    "ActionError",
    "Outcome",
    "register",
    "run",
    "run_many",
    "run_many_isolated",
    "validate",
]

logger = logging.getLogger(__name__)


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
    "create_task": (_("Create task (title, assignee: owner | role:X | user:x, priority, due_in_days)"), create_task),
    "set_status": (_("Set status (status)"), set_status),
    "set_stage": (_("Set lifecycle stage (stage)"), set_stage),
    "add_tag": (_("Add tag (tag)"), add_tag),
    "remove_tag": (_("Remove tag (tag)"), remove_tag),
    "send_email": (_("Send email template (template, to: contact | owner)"), send_email),
    "notify": (_("Notify (to: owner | role:X | user:x, title, body, email, slack)"), notify_users),
    "webhook": (_("Fire outgoing webhook (event)"), fire_webhook),
}


def register(kind: str, *, label: str, one, many) -> None:
    """Add an action kind defined by another module of this app (playbooks registers `enrol_playbook`, which needs
    the playbook engine: actions cannot import it, the engine runs actions)."""
    ACTIONS[kind] = (label, one)
    MANY[kind] = many


def validate(actions: list) -> None:
    if not isinstance(actions, list) or not actions:
        raise ActionError(gettext("A rule needs at least one action."))
    for action in actions:
        if not isinstance(action, dict) or action.get("type") not in ACTIONS:
            raise ActionError(gettext("Unknown action %(action)r.") % {"action": action})


def run(spec: dict, ctx: ActionContext) -> str:
    kind = spec.get("type")
    if kind not in ACTIONS:
        raise ActionError(gettext("Unknown action type %(kind)r.") % {"kind": kind})
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
        raise ActionError(gettext("Unknown action type %(kind)r.") % {"kind": kind})
    if not ctxs:
        return []
    return MANY[kind](spec, ctxs)
