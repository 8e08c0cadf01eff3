"""What every action receives and returns: the account and where the action comes from (`ActionContext`), the
outcome, the error of a misconfigured action, and the helpers that resolve recipients and texts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from accounts.models import Account
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
    raise ActionError(f"Unknown recipient {spec!r}: use owner, role:<Role> or user:<username>.")


def text_param(template: str, ctx: ActionContext) -> str:
    if ctx.context is None:
        ctx.context = email_context(
            account=ctx.account,
            extra={"match": {k.replace(" ", "_"): v for k, v in ctx.matched.items()}},
            features=None if "features_used" in template else [],
        )
    return render_string(template, ctx.context)


def why_of(ctx: ActionContext) -> str:
    lines = [f"Created by {ctx.source} “{ctx.label}”."]
    lines += [f"- {label}: {human_value(value)}" for label, value in ctx.matched.items()]
    return "\n".join(lines)


def fixed_users(spec: str | None) -> list | None:
    """The users of a recipient that does not depend on the account (None for 'owner')."""
    return None if (spec or "owner") == "owner" else users_param(spec, None)
