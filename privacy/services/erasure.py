"""Erase a contact's or an account's personal data: every place of `privacy.targets` and the import files on disk,
in one transaction — all of it or nothing —, each place with one set-based statement.

The erasure is recorded without the erased data: one CHANGE entry on the account's timeline, "Personal data erased",
and one entry in the audit trail (action "erase", by whom, through which door), both holding only the counts per
place. The erasure's own writes record nothing else in the trail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts.models import Account, Activity, ActivityKind, Contact
from audit import gate
from audit.capture import recording
from audit.context import acting
from audit.services import record_erasure
from privacy.files import FileRewrites, finished_jobs, mentions_subject, unfinished_jobs
from privacy.places import FILES, PLACE_KEYS
from privacy.subjects import CONTACT, Subject, account_subject, contact_subject
from privacy.targets import DELETE, Target, targets_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class ErasureRefused(Exception):
    """The erasure cannot run now (an import still reading a file about the subject): nothing was changed."""


@dataclass(frozen=True)
class ErasureSummary:
    """What an erasure did: rows (files, for import files) scrubbed per place."""

    subject: str
    subject_id: int
    account_id: int
    counts: dict[str, int]
    erased_at: dt.datetime

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def places(self) -> int:
        return sum(1 for count in self.counts.values() if count)

    def as_dict(self) -> dict:
        return {
            "subject": self.subject,
            "id": self.subject_id,
            "account": self.account_id,
            "erased_at": self.erased_at,
            "rows": self.rows,
            "counts": self.counts,
        }


def _apply(target: Target) -> int:
    if target.update == DELETE:
        return target.rows.delete()[0]
    if callable(target.update):
        return target.update(target.rows)
    if target.gated:
        with gate.opened():  # the audit trail lets an erasure rewrite its entries, inside this transaction only
            return target.rows.update(**target.update)
    return target.rows.update(**target.update)


def _refuse_while_importing(subject: Subject) -> None:
    for job in unfinished_jobs():
        if mentions_subject(job, subject):
            raise ErasureRefused(
                _("Import #%(id)s is still reading a file about them: erase once it has finished.") % {"id": job.pk}
            )


def _record(subject: Subject, *, actor: AbstractBaseUser | None, door: str, counts: dict[str, int]) -> Activity:
    with translation.override(settings.LANGUAGE_CODE):  # stored for the team, not in the request's language
        text = gettext("Personal data erased")
    return Activity.objects.create(
        account=subject.account,
        kind=ActivityKind.CHANGE,
        author=actor if actor is not None and actor.is_authenticated and actor.pk else None,
        subject=text,
        details={"field": "personal_data", "erased": subject.kind, "door": door, "counts": counts},
    )


def _erase(subject: Subject, *, actor: AbstractBaseUser | None, door: str) -> ErasureSummary:
    _refuse_while_importing(subject)
    rewrites = FileRewrites()
    try:
        # The erasure's own writes leave no values in the audit trail; one entry says it happened, with counts.
        with transaction.atomic(), acting(door=door), recording(False):
            counts = dict.fromkeys(PLACE_KEYS, 0)
            for target in targets_of(subject):
                counts[target.place] += _apply(target)
            for job in finished_jobs():
                counts[FILES] += rewrites.prepare(job, subject)
            done = {k: v for k, v in counts.items() if v}
            _record(subject, actor=actor, door=door, counts=done)
            model = Contact if subject.kind == CONTACT else Account
            record_erasure(model, object_id=subject.pk, account_id=subject.account.pk, counts=done)
            transaction.on_commit(rewrites.commit)
    except BaseException:
        rewrites.discard()
        raise
    return ErasureSummary(
        subject=subject.kind,
        subject_id=subject.pk,
        account_id=subject.account.pk,
        counts=counts,
        erased_at=timezone.now(),
    )


def erase_contact(*, contact: Contact, actor: AbstractBaseUser | None, door: str) -> ErasureSummary:
    """Erase one person's data everywhere it lives; their contact row stays as an anonymous "Erased contact"."""
    return _erase(contact_subject(contact), actor=actor, door=door)


def erase_account(*, account: Account, actor: AbstractBaseUser | None, door: str) -> ErasureSummary:
    """Erase an account's identifying fields and every one of its contacts' data; the account, its subscriptions
    and every fact the KPIs read stay, so the figures before and after are the same."""
    return _erase(account_subject(account), actor=actor, door=door)
