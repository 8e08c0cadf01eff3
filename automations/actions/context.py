"""What every action receives and returns: the account and where the action comes from (`ActionContext`), the
outcome, the error of a misconfigured action, and the helpers that resolve recipients and texts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Account
from automations.conditions.base import matched_label
from churnapp.templatetags.formatting import human_value
from messaging.email.render import email_context, render_string

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


def users_param(spec: str | None, account: Account | None) -> list:
    """'owner', 'role:<Role>' (every active member) or 'user:<username>'."""
    User = get_user_model()
    spec = spec or "owner"
    if spec == "owner":
        return [account.owner] if account is not None and account.owner_id else []
    if spec.startswith("role:"):
        return list(User.objects.filter(is_active=True, groups__name=spec[5:]).order_by("pk"))
    if spec.startswith("user:"):
        return list(User.objects.filter(is_active=True, username=spec[5:]))
    raise ActionError(gettext("Unknown recipient %(to)r: use owner, role:<Role> or user:<username>.") % {"to": spec})


def text_param(template: str, ctx: ActionContext) -> str:
    if ctx.context is None:
        ctx.context = email_context(
            account=ctx.account,
            extra={"match": {k.replace(" ", "_"): v for k, v in ctx.matched.items()}},
            features=None if "features_used" in template else [],
        )
    return render_string(template, ctx.context)


CREATED_BY = {
    "rule": gettext_lazy("Created by rule “%(label)s”."),
    "playbook": gettext_lazy("Created by playbook “%(label)s”."),
}


def why_of(ctx: ActionContext) -> str:
    """Why this action ran, in the active language: the rule or playbook and the matched values."""
    created_by = CREATED_BY.get(ctx.source)
    first = created_by % {"label": ctx.label} if created_by else f"Created by {ctx.source} “{ctx.label}”."
    lines = [first]
    lines += [f"- {matched_label(label)}: {human_value(value)}" for label, value in ctx.matched.items()]
    return "\n".join(lines)


# `why_of` computed when read: in the language of each recipient (a notification written to several people).
why_of_lazy = lazy(why_of, str)


def why_of_shared(ctx: ActionContext) -> str:
    """`why_of` for what the whole team reads (a task's description): in the installation's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return why_of(ctx)


def fixed_users(spec: str | None) -> list | None:
    """The users of a recipient that does not depend on the account (None for 'owner')."""
    return None if (spec or "owner") == "owner" else users_param(spec, None)
