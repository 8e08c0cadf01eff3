"""Helpers shared by the accounts services: the edit-permission check and the audit entry of a change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Account, Activity, ActivityKind
from churnapp.roles import can_edit_account

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def ensure_can_edit(user: AbstractBaseUser | None, account: Account) -> None:
    # `user=None` is the system (rules, imports, workers), which may edit any account.
    if user is not None and not can_edit_account(user, account):
        raise PermissionDenied(_("You can only edit the accounts you own."))


def data_label(choices, value: str) -> str:
    """A choice's label for audit entries, in English whatever the active language (`override(None)` turns translation
    off): the catalogues' own msgid, which the timeline translates for each reader (`accounts.change_text`)."""
    with translation.override(None):
        return str(dict(choices.choices).get(value, value))


def change_entry(*, account: Account, actor: AbstractBaseUser | None, field: str, old: str, new: str) -> Activity:
    return Activity(
        account=account,
        kind=ActivityKind.CHANGE,
        author=actor,
        subject=f"{field.replace('_', ' ').capitalize()} changed from {old or '—'} to {new or '—'}",
        details={"field": field, "old": old, "new": new},
    )
