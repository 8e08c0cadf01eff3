"""Writes to one account: its status, owner, lifecycle stage and tags, each audited on its timeline when it changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, AccountStatus, Activity, LifecycleStage
from accounts.services._common import change_entry, data_label, ensure_can_edit
from accounts.services.bulk import accounts_add_tag_bulk, accounts_remove_tag_bulk
from audit.capture import update_recorded
from churnapp import hooks

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@transaction.atomic
def account_set_status(*, account: Account, status: str, actor: AbstractBaseUser | None) -> Account:
    """Change an account's status, with an audit entry on its timeline."""
    ensure_can_edit(actor, account)
    if status not in AccountStatus.values:
        raise ValueError(_("Unknown status %(status)r.") % {"status": status})
    if account.status != status:
        old, old_value = data_label(AccountStatus, account.status), account.status
        account.status = status
        account.save(update_fields=["status", "updated_at"])
        change_entry(
            account=account, actor=actor, field="status", old=old, new=data_label(AccountStatus, status)
        ).save()
        hooks.notify(
            hooks.ACCOUNT_STATUS_CHANGED,
            [{"account_id": account.pk, "external_id": account.external_id, "old": old_value, "new": status}],
        )
    return account


@transaction.atomic
def account_assign_owner(
    *, accounts: list[Account], owner: AbstractBaseUser | None, actor: AbstractBaseUser | None
) -> int:
    """Give accounts a new owner (one audit entry per account that changes). Returns how many changed.

    Any account the actor may not edit refuses the whole batch: nothing changes.
    """
    for account in accounts:
        ensure_can_edit(actor, account)
    changed = [a for a in accounts if a.owner_id != (owner.pk if owner else None)]
    if not changed:
        return 0
    entries = [
        change_entry(
            account=a,
            actor=actor,
            field="owner",
            old=a.owner.get_full_name() or a.owner.get_username() if a.owner else "",
            new=(owner.get_full_name() or owner.get_username()) if owner else "",
        )
        for a in changed
    ]
    update_recorded(Account.objects.filter(pk__in=[a.pk for a in changed]), owner=owner, updated_at=timezone.now())
    Activity.objects.bulk_create(entries)
    return len(changed)


def account_add_tag(*, account: Account, name: str, actor: AbstractBaseUser | None = None) -> None:
    """Put a tag (created when new) on an account, with an audit entry; adding it twice changes nothing."""
    accounts_add_tag_bulk(account_ids=[account.pk], name=name, actor=actor)


def account_remove_tag(*, account: Account, name: str, actor: AbstractBaseUser | None = None) -> None:
    """Take a tag off an account (used by automation rules), with an audit entry; a tag it does not carry changes
    nothing."""
    accounts_remove_tag_bulk(account_ids=[account.pk], name=name, actor=actor)


@transaction.atomic
def account_set_lifecycle_stage(*, account: Account, stage: str, actor: AbstractBaseUser | None) -> Account:
    """Move an account to another lifecycle stage (journeys and rules), with an audit entry on its timeline."""
    ensure_can_edit(actor, account)
    if stage not in LifecycleStage.values:
        raise ValueError(_("Unknown lifecycle stage %(stage)r.") % {"stage": stage})
    if account.lifecycle_stage != stage:
        old = data_label(LifecycleStage, account.lifecycle_stage)
        account.lifecycle_stage = stage
        account.save(update_fields=["lifecycle_stage", "updated_at"])
        new = data_label(LifecycleStage, stage)
        change_entry(account=account, actor=actor, field="lifecycle_stage", old=old, new=new).save()
    return account
