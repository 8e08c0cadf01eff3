"""Bulk edits from the accounts list: prepare (resolve the accounts, check the rights), confirm, run in chunks.

Each action is a `BulkAction` in a registry; the accounts app registers the edits of its own fields, and an upper
app adds its own in `AppConfig.ready()` (automations: enrol in a playbook), so this module imports no upper app.
An action's `apply` changes a chunk of accounts set-based and writes one audit entry per account it changes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, AccountStatus, BulkEdit, BulkEditStatus, LifecycleStage
from accounts.selectors import owner_options
from accounts.services.accounts import account_assign_owner
from accounts.services.bulk import (
    accounts_add_tag_bulk,
    accounts_remove_tag_bulk,
    accounts_set_attribute_bulk,
    accounts_set_lifecycle_stage_bulk,
    accounts_set_status_bulk,
)
from churnapp import hooks
from churnapp.roles import editable_accounts

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

CHUNK = 500


class BulkEditInvalid(ValueError):
    """The edit cannot be prepared or confirmed; the message says why, for the user."""


@dataclass(frozen=True)
class BulkAction:
    key: str
    label: str  # "Set status": the summary reads "Set status: At risk"
    # apply(account_ids, value, key, actor) → the ids it changed (audit entries written by it).
    apply: Callable[[list[int], str, str, AbstractBaseUser], set[int]]
    choices: Callable[[], list[tuple[str, str]]] | None = None  # the value's options; None: free text
    needs_key: bool = False  # a custom attribute names its key as well as its value
    blank_value: bool = False  # an empty value is meaningful (removes a custom attribute)
    permission: str = ""  # a permission needed besides the right to edit each account


_actions: dict[str, BulkAction] = {}


def register(action: BulkAction) -> None:
    _actions[action.key] = action


def actions() -> list[BulkAction]:
    return list(_actions.values())


def is_typed(key: str) -> bool:
    """Whether the value of the action `key` is typed in (a tag, an attribute) rather than chosen from options."""
    action = _actions.get(key)
    return action is not None and action.choices is None


def _owner_apply(account_ids: list[int], value: str, key: str, actor) -> set[int]:
    owner = get_user_model().objects.filter(pk=value).first() if value else None
    accounts = list(Account.objects.filter(pk__in=account_ids).select_related("owner"))
    before = {a.pk: a.owner_id for a in accounts}
    account_assign_owner(accounts=accounts, owner=owner, actor=actor)
    return {pk for pk, owner_id in before.items() if owner_id != (owner.pk if owner else None)}


def _owner_choices() -> list[tuple[str, str]]:
    """The owners the accounts list offers (working roles, never a viewer), or none."""
    return [("", _("Unassigned"))] + [(str(pk), name) for pk, name in owner_options()]


for _action in (
    BulkAction(
        "owner", gettext_lazy("Assign owner"), _owner_apply, choices=_owner_choices, permission="accounts.assign_owner"
    ),
    BulkAction(
        "status",
        gettext_lazy("Set status"),
        lambda ids, value, key, actor: accounts_set_status_bulk(account_ids=ids, status=value, actor=actor),
        choices=lambda: list(AccountStatus.choices),
    ),
    BulkAction(
        "stage",
        gettext_lazy("Set lifecycle stage"),
        lambda ids, value, key, actor: accounts_set_lifecycle_stage_bulk(account_ids=ids, stage=value, actor=actor),
        choices=lambda: list(LifecycleStage.choices),
    ),
    BulkAction(
        "tag_add",
        gettext_lazy("Add tag"),
        lambda ids, value, key, actor: accounts_add_tag_bulk(account_ids=ids, name=value, actor=actor),
    ),
    BulkAction(
        "tag_remove",
        gettext_lazy("Remove tag"),
        lambda ids, value, key, actor: accounts_remove_tag_bulk(account_ids=ids, name=value, actor=actor),
    ),
    BulkAction(
        "attribute",
        gettext_lazy("Set custom attribute"),
        lambda ids, value, key, actor: accounts_set_attribute_bulk(account_ids=ids, key=key, value=value, actor=actor),
        needs_key=True,
        blank_value=True,
    ),
):
    register(_action)


def _summary(action: BulkAction, value: str, key: str) -> str:
    if action.choices is not None:
        shown = dict(action.choices()).get(value, value)
    else:
        shown = f"“{value}”" if value else _("(removed)")
    return f"{action.label}: {key} = {shown}" if action.needs_key else f"{action.label}: {shown}"


def bulk_edit_prepare(
    *, actor: AbstractBaseUser, action: str, value: str, key: str = "", scope: str, query: str, accounts: QuerySet
) -> BulkEdit:
    """Resolve the accounts an edit would change and keep them in a draft for the user to confirm.

    Accounts the actor may not edit (another CSM's) are counted, never changed. Raises `BulkEditInvalid` for an
    unknown action or value, `PermissionDenied` when the action itself is beyond the actor's role.
    """
    spec = _actions.get(action)
    if spec is None:
        raise BulkEditInvalid(_("Choose what to change."))
    if spec.permission and not actor.has_perm(spec.permission):
        raise PermissionDenied(_("Your role cannot %(action)s in bulk.") % {"action": str(spec.label).lower()})
    value, key = value.strip(), key.strip()
    if spec.choices is not None and value not in dict(spec.choices()):
        raise BulkEditInvalid(_("Choose a valid value for “%(action)s”.") % {"action": spec.label})
    if spec.choices is None and not value and not spec.blank_value:
        raise BulkEditInvalid(_("“%(action)s” needs a value.") % {"action": spec.label})
    if spec.needs_key and not key:
        raise BulkEditInvalid(_("Name the custom attribute to set."))
    if "\x00" in value or "\x00" in key:
        raise BulkEditInvalid(_("The value cannot contain a NUL character."))
    if len(value) > 100 or len(key) > 64:
        raise BulkEditInvalid(_("Keep the value under 100 characters and the attribute name under 64."))
    chosen = accounts.count()
    ids = list(editable_accounts(actor, accounts).order_by("pk").values_list("pk", flat=True))
    if not chosen:
        raise BulkEditInvalid(_("Select at least one account."))
    return BulkEdit.objects.create(
        action=action,
        params={"value": value, "key": key},
        summary=_summary(spec, value, key)[:255],
        scope=scope,
        query=query,
        account_ids=ids,
        not_editable_count=chosen - len(ids),
        created_by=actor,
    )


def bulk_edit_confirm(*, job: BulkEdit, actor: AbstractBaseUser) -> BulkEdit:
    """Start a confirmed draft: small edits run at once (the user sees the result), larger ones in a worker."""
    if job.created_by_id != actor.pk:
        raise PermissionDenied(_("Only the person who prepared this bulk edit can confirm it."))
    claimed = BulkEdit.objects.filter(pk=job.pk, status=BulkEditStatus.DRAFT).update(
        status=BulkEditStatus.QUEUED, heartbeat_at=timezone.now()
    )
    if not claimed:
        raise BulkEditInvalid(_("This bulk edit was already confirmed or cancelled."))
    if not job.account_ids:
        raise BulkEditInvalid(_("None of the chosen accounts is one you may edit."))
    job.refresh_from_db()
    if len(job.account_ids) <= settings.BULK_EDIT_INLINE_LIMIT:
        return bulk_edit_run(job_id=job.pk)
    hooks.notify(hooks.BULK_EDIT_QUEUED, job.pk)
    return job


def bulk_edit_cancel(*, job: BulkEdit, actor: AbstractBaseUser) -> BulkEdit:
    """Cancel a draft, or stop a queued or running edit after its current chunk (what ran stays done)."""
    if job.created_by_id != actor.pk and not actor.has_perm("accounts.assign_owner"):
        raise PermissionDenied(_("Only the person who prepared this bulk edit, or a manager, can cancel it."))
    BulkEdit.objects.filter(
        pk=job.pk, status__in=[BulkEditStatus.DRAFT, BulkEditStatus.QUEUED, BulkEditStatus.RUNNING]
    ).update(status=BulkEditStatus.CANCELLED, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def _run_chunk(job_id: int) -> bool:
    """Apply the next chunk and move the counters, in one transaction. False when there is nothing left to do."""
    with transaction.atomic():
        job = BulkEdit.objects.select_for_update().select_related("created_by").get(pk=job_id)
        if job.status not in (BulkEditStatus.QUEUED, BulkEditStatus.RUNNING):
            return False
        chunk = job.account_ids[job.processed : job.processed + CHUNK]
        if not chunk:
            job.status, job.finished_at = BulkEditStatus.DONE, timezone.now()
            job.save(update_fields=["status", "finished_at"])
            return False
        if job.status == BulkEditStatus.QUEUED:
            job.status, job.started_at = BulkEditStatus.RUNNING, timezone.now()
        # Rights are checked again: an account reassigned since the confirmation is no longer the CSM's to edit.
        editable = list(
            editable_accounts(job.created_by, Account.objects.filter(pk__in=chunk)).values_list("pk", flat=True)
        )
        spec = _actions[job.action]
        changed = (
            spec.apply(editable, job.params.get("value", ""), job.params.get("key", ""), job.created_by)
            if editable
            else set()
        )
        job.processed += len(chunk)
        job.changed += len(changed)
        job.unchanged += len(chunk) - len(changed)
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "started_at", "processed", "changed", "unchanged", "heartbeat_at"])
        return True


def bulk_edit_run(*, job_id: int) -> BulkEdit:
    """Walk the edit's accounts chunk by chunk until done, cancelled or failed; resumable after a dead worker."""
    BulkEdit.objects.filter(pk=job_id).update(attempts=F("attempts") + 1)
    try:
        while _run_chunk(job_id):
            pass
    except OperationalError:
        raise  # the database went away: the worker's task retries and resumes at `processed`
    except Exception as exc:
        # The failing chunk rolled back whole; the chunks before it stay done and the page says how far it got.
        logger.exception("Bulk edit %s failed.", job_id)
        BulkEdit.objects.filter(pk=job_id).update(
            status=BulkEditStatus.FAILED, error=f"Stopped by an error: {exc}"[:2000], finished_at=timezone.now()
        )
    return BulkEdit.objects.get(pk=job_id)


# A queued or running edit whose heartbeat is older than this is taken for lost (its message or its worker died):
# a chunk takes seconds.
STALE_AFTER = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 3


def bulk_edits_recover(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Beat: queue again the edits nobody is running (they resume at `processed`); after MAX_ATTEMPTS runs that
    died, fail them with the reason (the accounts done so far stay done)."""
    now = now or timezone.now()
    stale = BulkEdit.objects.filter(
        status__in=[BulkEditStatus.QUEUED, BulkEditStatus.RUNNING], heartbeat_at__lt=now - STALE_AFTER
    )
    failed = stale.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=BulkEditStatus.FAILED,
        finished_at=now,
        error=f"Stopped {MAX_ATTEMPTS} times without finishing (its worker died each time).",
    )
    with transaction.atomic():
        ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True))
        BulkEdit.objects.filter(pk__in=ids).update(heartbeat_at=now)
        for pk in ids:
            hooks.notify(hooks.BULK_EDIT_QUEUED, pk)
    return {"requeued": len(ids), "failed": failed}
