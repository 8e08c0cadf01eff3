"""The account timeline: who may edit or delete an entry, and logging notes, calls, emails and meetings."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Activity, ActivityKind
from accounts.services._common import ensure_can_edit

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def activity_ensure_editable(*, activity: Activity, actor: AbstractBaseUser | None, delete: bool = False) -> None:
    """Audit entries (kind "change") are written by the system only and never edited or deleted. Any other entry
    is edited only by its author, so its byline stays true (an entry without author, e.g. synced by an
    integration, by whoever may edit the account — an API key included); deleting one follows the role's
    permissions (managers, admins, write keys)."""
    if activity.kind == ActivityKind.CHANGE:
        raise PermissionDenied(_("Audit entries (changes) cannot be edited or deleted."))
    if delete:
        return
    if activity.author_id is not None and (actor is None or actor.pk != activity.author_id):
        raise PermissionDenied(_("Only the author can edit this activity."))
    ensure_can_edit(actor, activity.account)


def activity_create(
    *,
    account: Account,
    author: AbstractBaseUser | None,
    kind: str = ActivityKind.NOTE,
    subject: str = "",
    body: str,
    occurred_at: dt.datetime | None = None,
) -> Activity:
    """Log a note, call, email or meeting on the account timeline."""
    ensure_can_edit(author, account)
    return Activity.objects.create(
        account=account,
        author=author,
        kind=kind,
        subject=subject,
        body=body,
        occurred_at=occurred_at or timezone.now(),
    )


def changes_record(
    *, account_ids, actor: AbstractBaseUser | None, field: str, old: str, new: str, subject: str, **details
) -> None:
    """The same change on many accounts, made by an upper app (a bulk enrolment): one audit entry each, in one
    INSERT. Keyword `details` are kept beside field, old and new (a playbook enrolment's `holdout`)."""
    Activity.objects.bulk_create(
        [
            Activity(
                account_id=pk,
                kind=ActivityKind.CHANGE,
                author=actor,
                subject=subject[:255],
                details={"field": field, "old": old, "new": new, **details},
            )
            for pk in sorted(account_ids)
        ],
        batch_size=2000,
    )
