"""Playbooks: save them (validated, audited), enrol accounts (with a random holdout share), stop enrolments."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account
from audit.capture import record_objects
from automations.models import Enrolment, EnrolmentStatus, Playbook, PlaybookStep
from automations.playbooks.validation import PlaybookInvalid, routes_validate, step_validate
from churnapp import hooks

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@transaction.atomic
def playbook_save(
    *,
    key: str,
    name: str,
    steps: list[tuple[str, dict]],
    description: str = "",
    trigger: str = "",
    owner_role: str = "",
    metric: str = "",
    holdout_percent: int = 0,
    enabled: bool = True,
    playbook: Playbook | None = None,
) -> Playbook:
    """Create or update a playbook with its ordered steps ((kind, config) pairs), all or nothing.

    The steps are replaced as a whole, numbered 1…n; active enrolments continue from the step number they are at.
    """
    if not steps:
        raise PlaybookInvalid(_("A playbook needs at least one step."))
    if not 0 <= holdout_percent <= 50:
        raise PlaybookInvalid("Hold out from 0 to 50% of accounts.")
    checked = routes_validate(
        [(kind, step_validate(n, kind, config)) for n, (kind, config) in enumerate(steps, start=1)]
    )
    if Playbook.objects.filter(key=key).exclude(pk=playbook.pk if playbook else None).exists():
        raise PlaybookInvalid(_("Another playbook has the key %(key)r.") % {"key": key})
    playbook = playbook or Playbook()
    playbook.key, playbook.name, playbook.description = key, name, description
    playbook.trigger, playbook.owner_role, playbook.metric = trigger, owner_role, metric
    playbook.holdout_percent, playbook.enabled = holdout_percent, enabled
    try:
        playbook.full_clean()
    except ValidationError as exc:
        raise PlaybookInvalid("; ".join(exc.messages)) from exc
    playbook.save()
    playbook.steps.all().delete()
    record_objects(PlaybookStep, created=PlaybookStep.objects.bulk_create(
        [PlaybookStep(playbook=playbook, order=n, kind=kind, config=config) for n, (kind, config) in
         enumerate(checked, start=1)]
    ))  # fmt: skip
    return playbook


def in_holdout(*, playbook: Playbook, account_id: int) -> bool:
    """A stable random draw per (playbook, account): the same account is always in the same group."""
    if playbook.holdout_percent <= 0:
        return False
    digest = hashlib.sha256(f"holdout:{playbook.pk}:{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < playbook.holdout_percent * 100


def _new_enrolment(
    *, playbook: Playbook, account: Account, first_step: int | None, source: str, now: dt.datetime
) -> Enrolment:
    """An unsaved enrolment of `account`, held out or due now, with its baseline for the impact report."""
    holdout = in_holdout(playbook=playbook, account_id=account.pk)
    return Enrolment(
        playbook=playbook,
        account=account,
        holdout=holdout,
        status=EnrolmentStatus.HELD_OUT if holdout else EnrolmentStatus.ACTIVE,
        step=first_step or 0,
        next_run_at=None if holdout else now,
        source=source[:64],
        baseline_health=account.health_score,
        baseline_mrr=account.mrr,
        enrolled_at=now,
    )


def playbook_enrol(
    *, playbook: Playbook, account: Account, source: str = "manual", now: dt.datetime | None = None
) -> tuple[Enrolment, bool]:
    """Enrol an account (or hold it out). Idempotent: an open enrolment is returned as is (created=False)."""
    now = now or timezone.now()
    existing = Enrolment.objects.filter(
        playbook=playbook, account=account, status__in=[EnrolmentStatus.ACTIVE, EnrolmentStatus.HELD_OUT]
    ).first()
    if existing is not None:
        return existing, False
    first = playbook.steps.order_by("order").values_list("order", flat=True).first()
    enrolment = _new_enrolment(playbook=playbook, account=account, first_step=first, source=source, now=now)
    holdout = enrolment.holdout
    try:
        with transaction.atomic():
            enrolment.save()
    except IntegrityError:
        return Enrolment.objects.get(
            playbook=playbook, account=account, status__in=[EnrolmentStatus.ACTIVE, EnrolmentStatus.HELD_OUT]
        ), False
    if not holdout and first is not None:
        hooks.notify(hooks.ENROLMENTS_DUE, [enrolment.pk])
    return enrolment, True


def playbook_enrol_many(
    *, playbook: Playbook, accounts: list[Account], sources: list[str], now: dt.datetime | None = None
) -> list[tuple[Enrolment, bool]]:
    """`playbook_enrol` for many accounts in one INSERT; accounts with an open enrolment keep it (created=False)."""
    now = now or timezone.now()
    open_ = {
        e.account_id: e
        for e in Enrolment.objects.filter(
            playbook=playbook,
            account_id__in=[a.pk for a in accounts],
            status__in=[EnrolmentStatus.ACTIVE, EnrolmentStatus.HELD_OUT],
        )
    }
    first = playbook.steps.order_by("order").values_list("order", flat=True).first()
    out: list[tuple[Enrolment, bool]] = []
    new: list[Enrolment] = []
    for account, source in zip(accounts, sources, strict=True):
        if account.pk in open_:
            out.append((open_[account.pk], False))
            continue
        enrolment = _new_enrolment(playbook=playbook, account=account, first_step=first, source=source, now=now)
        open_[account.pk] = enrolment
        new.append(enrolment)
        out.append((enrolment, True))
    Enrolment.objects.bulk_create(new, batch_size=2000)
    due = [e.pk for e in new if not e.holdout and first is not None]
    if due:
        hooks.notify(hooks.ENROLMENTS_DUE, due)
    return out


def mark_stopped(enrolment: Enrolment, reason: str, now: dt.datetime) -> None:
    enrolment.status = EnrolmentStatus.STOPPED
    enrolment.stop_reason = reason[:255]
    enrolment.finished_at, enrolment.next_run_at, enrolment.wait_deadline = now, None, None


def enrolment_stop(*, enrolment: Enrolment, reason: str, actor: AbstractBaseUser | None = None) -> Enrolment:
    if enrolment.status == EnrolmentStatus.ACTIVE:
        mark_stopped(enrolment, reason, timezone.now())
        enrolment.save(update_fields=["status", "stop_reason", "finished_at", "next_run_at", "wait_deadline"])
    return enrolment
