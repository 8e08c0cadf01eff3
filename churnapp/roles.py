"""Roles (Admin, Manager, CSM, Viewer) as auth groups, and the object rules that model permissions cannot say.

- Viewer reads everything and changes nothing.
- CSM reads everything and edits the accounts they own (notes, tasks, status, contacts on those).
- Manager edits every account, reassigns owners and configures (health profiles, rules, playbooks).
- Admin does all of that and manages users and API keys.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import QuerySet

    from accounts.models import Account


class Role(StrEnum):
    ADMIN = "Admin"
    MANAGER = "Manager"
    CSM = "CSM"
    VIEWER = "Viewer"


# App labels whose every model a role may read.
_READ_APPS = ("accounts", "health", "automations", "winback", "dashboards")
# Models a CSM may add/change (on accounts they own; enforced by can_edit_account).
_CSM_WRITE = {
    "accounts": ("account", "contact", "activity", "task", "savedview"),
}
# Apps a manager configures in full.
_MANAGER_ALL = ("accounts", "health", "automations", "winback", "dashboards")


def _role_permissions(role: Role) -> list[Permission]:
    perms = Permission.objects.select_related("content_type")
    read = [p for p in perms.filter(content_type__app_label__in=_READ_APPS) if p.codename.startswith("view_")]
    if role == Role.VIEWER:
        return read
    if role == Role.CSM:
        write = [
            p
            for p in perms.filter(content_type__app_label__in=_CSM_WRITE)
            if p.content_type.model in _CSM_WRITE[p.content_type.app_label]
            and p.codename.split("_", 1)[0] in ("add", "change")
        ]
        return read + write
    managed = list(perms.filter(content_type__app_label__in=_MANAGER_ALL))
    if role == Role.MANAGER:
        return managed
    return managed + list(perms.filter(content_type__app_label__in=("auth", "churnapp")))


def ensure_role_groups(**kwargs) -> None:
    """Create the four role groups and give each exactly its permissions (idempotent)."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(_role_permissions(role))


def user_role(user: AbstractBaseUser) -> Role | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = {g.name for g in user.groups.all()}
    return next((role for role in Role if role.value in names), None)


def can_edit_account(user: AbstractBaseUser, account: Account) -> bool:
    """Managers and admins edit every account; a CSM only the accounts they own; a viewer none."""
    if not user.is_authenticated or not user.has_perm("accounts.change_account"):
        return False
    if user.has_perm("accounts.assign_owner"):
        return True
    return account.owner_id == user.pk


def editable_accounts(user: AbstractBaseUser, accounts: QuerySet) -> QuerySet:
    """`can_edit_account` for a whole queryset of accounts, in SQL: all of them, the user's own, or none."""
    if not user.is_authenticated or not user.has_perm("accounts.change_account"):
        return accounts.none()
    if user.has_perm("accounts.assign_owner"):
        return accounts
    return accounts.filter(owner_id=user.pk)


def can_configure(user: AbstractBaseUser) -> bool:
    """Managers and admins configure health profiles, rules and playbooks."""
    return user.is_authenticated and user.has_perm("accounts.assign_owner")


def require_configure(user: AbstractBaseUser, *, refusal: str | None = None) -> None:
    """Refuse (403) anyone but managers and admins, saying why in the reader's language."""
    if not can_configure(user):
        raise PermissionDenied(refusal or gettext("Only managers and admins do this."))


def require_admin(user: AbstractBaseUser) -> None:
    """Refuse (403) anyone but admins (who alone may create API keys)."""
    if not user.has_perm("churnapp.add_apikey"):
        raise PermissionDenied(gettext("Only admins manage integrations."))
