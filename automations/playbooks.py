"""Playbooks: enrol accounts (with a random holdout share), advance their steps, report the impact.

Steps run in order. `task` and `email` run at once and move on; `wait` pauses the enrolment for N days;
`branch` stops the enrolment when its condition holds for the account (e.g. health recovered). Each step an
enrolment runs is recorded once (unique per enrolment and step) inside the same transaction as its effect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, AccountStatus, TaskPriority
from audit.capture import record_objects
from audit.context import Actor, acting
from audit.models import ActorKind
from automations import actions, conditions, impact
from automations.models import (
    Enrolment,
    EnrolmentStatus,
    EnrolmentStepRun,
    Playbook,
    PlaybookStep,
    StepKind,
)
from churnapp import hooks
from messaging.models import EmailTemplate

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)
ADVANCE_CHUNK = 200  # enrolments advanced per transaction


class PlaybookInvalid(ValueError):
    """A playbook or one of its steps is not valid (shown in the editor)."""


def _step_validate(n: int, kind: str, config: dict) -> dict:
    """A step's config, checked and normalised; PlaybookInvalid names the step."""
    where = f"Step {n} ({kind})"
    if not isinstance(config, dict):
        raise PlaybookInvalid(f"{where}: the parameters must be key=value pairs.")
    if kind == StepKind.TASK:
        if not str(config.get("title", "")).strip():
            raise PlaybookInvalid(f"{where}: a task needs a title.")
        assignee = str(config.get("assignee", "owner"))
        if assignee != "owner" and not assignee.startswith(("role:", "user:")):
            raise PlaybookInvalid(f"{where}: assignee is owner, role:<Role> or user:<username>.")
        if config.get("priority", TaskPriority.NORMAL) not in TaskPriority.values:
            raise PlaybookInvalid(f"{where}: priority is one of {', '.join(TaskPriority.values)}.")
        due = config.get("due_in_days")
        if due is not None and (isinstance(due, bool) or not isinstance(due, int) or not 0 <= due <= 365):
            raise PlaybookInvalid(f"{where}: due_in_days is a whole number of days from 0 to 365.")
    elif kind == StepKind.EMAIL:
        if not EmailTemplate.objects.filter(key=config.get("template", "")).exists():
            raise PlaybookInvalid(f"{where}: no email template {config.get('template', '')!r}.")
        if config.get("to", "contact") not in ("contact", "owner"):
            raise PlaybookInvalid(f"{where}: to is contact or owner.")
    elif kind == StepKind.WAIT:
        days = config.get("days")
        if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= 365:
            raise PlaybookInvalid(f"{where}: wait a number of days from 1 to 365 (days=7).")
    elif kind == StepKind.BRANCH:
        try:
            conditions.validate(config.get("condition") or {})
        except conditions.ConditionError as exc:
            raise PlaybookInvalid(f"{where}: {exc}") from exc
    else:
        raise PlaybookInvalid(f"Step {n}: unknown kind {kind!r}.")
    return config


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
        raise PlaybookInvalid("A playbook needs at least one step.")
    if not 0 <= holdout_percent <= 50:
        raise PlaybookInvalid("Hold out from 0 to 50% of accounts.")
    checked = [(kind, _step_validate(n, kind, config)) for n, (kind, config) in enumerate(steps, start=1)]
    if Playbook.objects.filter(key=key).exclude(pk=playbook.pk if playbook else None).exists():
        raise PlaybookInvalid(f"Another playbook has the key {key!r}.")
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


def _mark_stopped(enrolment: Enrolment, reason: str, now: dt.datetime) -> None:
    enrolment.status = EnrolmentStatus.STOPPED
    enrolment.stop_reason = reason[:255]
    enrolment.finished_at, enrolment.next_run_at = now, None


def enrolment_stop(*, enrolment: Enrolment, reason: str, actor: AbstractBaseUser | None = None) -> Enrolment:
    if enrolment.status == EnrolmentStatus.ACTIVE:
        _mark_stopped(enrolment, reason, timezone.now())
        enrolment.save(update_fields=["status", "stop_reason", "finished_at", "next_run_at"])
    return enrolment


def _step_action(step: PlaybookStep) -> dict:
    if step.kind == StepKind.TASK:
        return {"type": "create_task", **step.config}
    return {"type": "send_email", **step.config}


def enrolment_advance(*, enrolment: Enrolment, now: dt.datetime | None = None) -> str:
    """Run the enrolment's due steps up to the next wait (inside the caller's transaction). Returns its status."""
    return enrolments_advance(enrolments=[enrolment], now=now)[enrolment.pk]


def _next_step(enrolment: Enrolment, steps: list[PlaybookStep], done: set[tuple[int, int]]) -> PlaybookStep | None:
    return next((s for s in steps if s.order >= enrolment.step and (enrolment.pk, s.order) not in done), None)


def enrolments_advance(*, enrolments: list[Enrolment], now: dt.datetime | None = None) -> dict[int, str]:
    """Run the due steps of many enrolments up to their next wait (inside the caller's transaction), set-based.

    Enrolments at the same step of the same playbook move together: a task or email step runs once for all of
    them (`actions.run_many_isolated`: one INSERT of tasks …, a failure recorded per account and the playbook
    going on), a branch is one query for all their accounts, and the step runs are written in one INSERT, the
    enrolments in one UPDATE. Steps an enrolment already ran (a retry) are skipped. Returns each status.
    """
    now = now or timezone.now()
    due = [e for e in enrolments
           if e.status == EnrolmentStatus.ACTIVE and not (e.next_run_at and e.next_run_at > now)]  # fmt: skip
    if due:
        accounts = Account.objects.select_related("owner").in_bulk([e.account_id for e in due])
        steps: dict[int, list[PlaybookStep]] = {}
        for step in PlaybookStep.objects.filter(playbook_id__in={e.playbook_id for e in due}).order_by("order"):
            steps.setdefault(step.playbook_id, []).append(step)
        done = set(EnrolmentStepRun.objects.filter(enrolment__in=due).values_list("enrolment_id", "order"))
        runs: list[EnrolmentStepRun] = []
        moving = due
        while moving:
            at_step: dict[int, list[Enrolment]] = {}
            for enrolment in moving:
                step = _next_step(enrolment, steps.get(enrolment.playbook_id, []), done)
                if step is None:
                    enrolment.status = EnrolmentStatus.COMPLETED
                    enrolment.finished_at, enrolment.next_run_at = now, None
                else:
                    at_step.setdefault(step.pk, []).append(enrolment)
            moving = []
            for step_id, group in at_step.items():
                step = next(s for s in steps[group[0].playbook_id] if s.pk == step_id)
                outcomes = _step_run(step, group, accounts, now)
                for enrolment, (ok, detail, goes_on) in zip(group, outcomes, strict=True):
                    runs.append(EnrolmentStepRun(enrolment=enrolment, order=step.order, kind=step.kind, ok=ok,
                                                 detail=detail, ran_at=now))  # fmt: skip
                    enrolment.step = step.order + 1
                    if goes_on:
                        moving.append(enrolment)
        EnrolmentStepRun.objects.bulk_create(runs, batch_size=2000)
        Enrolment.objects.bulk_update(due, ["status", "stop_reason", "finished_at", "next_run_at", "step"])
    return {e.pk: e.status for e in enrolments}


def _step_run(
    step: PlaybookStep, group: list[Enrolment], accounts: dict[int, Account], now: dt.datetime
) -> list[tuple[bool, str, bool]]:
    """One step for the enrolments at it: per enrolment (ok, detail, whether it goes on to the next step now).
    A wait pauses them (next_run_at), a branch whose condition holds stops them."""
    if step.kind == StepKind.WAIT:
        days = float(step.config.get("days", 1))
        until = now + dt.timedelta(days=days)
        for enrolment in group:
            enrolment.next_run_at = until
        return [(True, f"Wait {days:g} days, until {until:%Y-%m-%d %H:%M}", False)] * len(group)
    if step.kind == StepKind.BRANCH:
        tree = step.config.get("condition") or {}
        in_group = Account.objects.filter(pk__in=[e.account_id for e in group])
        rows, _ = conditions.matching(tree, now=now, queryset=in_group)
        held = {row["pk"] for row in rows}
        out = []
        for enrolment in group:
            if enrolment.account_id in held:
                _mark_stopped(enrolment, step.config.get("reason", "Condition held"), now)
                out.append((True, "Condition held: stopped", False))
            else:
                out.append((True, "Condition did not hold: continue", True))
        return out
    playbook = group[0].playbook
    ctxs = [
        actions.ActionContext(account=accounts[e.account_id], source="playbook", key=f"enrolment:{e.pk}:{step.order}",
                              label=playbook.name)
        for e in group
    ]  # fmt: skip
    with acting(actor=Actor(ActorKind.PLAYBOOK, str(playbook.pk), playbook.name)):
        outcomes = actions.run_many_isolated(_step_action(step), ctxs, what=f"Playbook {playbook.pk} step {step.order}")
    for enrolment, (ok, detail) in zip(group, outcomes, strict=True):
        if not ok:  # recorded on the enrolment's step run: never silent
            logger.warning("Playbook %s step %s failed for account %s: %s", playbook.pk, step.order,
                           enrolment.account_id, detail)  # fmt: skip
    return [(ok, detail[:2000], True) for ok, detail in outcomes]


def enrolments_advance_due(*, now: dt.datetime | None = None, limit: int | None = None) -> int:
    """Advance every active enrolment that is due, a chunk per transaction (rows another worker holds are
    skipped). Returns how many were advanced."""
    now = now or timezone.now()
    count = 0
    while limit is None or count < limit:
        size = ADVANCE_CHUNK if limit is None else min(ADVANCE_CHUNK, limit - count)
        with transaction.atomic():
            chunk = list(
                Enrolment.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=EnrolmentStatus.ACTIVE, next_run_at__lte=now)
                .select_related("playbook")
                .order_by("next_run_at", "pk")[:size]
            )
            if not chunk:
                break
            enrolments_advance(enrolments=chunk, now=now)
        count += len(chunk)
    return count


def advance_many(*, enrolment_ids: list[int]) -> dict[int, str]:
    """Advance these enrolments now (rows another worker holds are skipped: it is advancing them)."""
    with transaction.atomic():
        chunk = list(
            Enrolment.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("playbook")
            .filter(pk__in=enrolment_ids)
            .order_by("pk")
        )
        return enrolments_advance(enrolments=chunk)


def advance_one(*, enrolment_id: int) -> str:
    return advance_many(enrolment_ids=[enrolment_id]).get(enrolment_id, "busy")


# --- Impact report ---------------------------------------------------------------------------------------------------


def playbook_impact(*, playbook: Playbook) -> dict:
    """Enrolled vs held-out accounts (intention to treat): retention, health change and NRR, with 95% intervals.

    Retained = not churned now; health change = score now − score at enrolment; NRR = Σ MRR now ÷ Σ MRR at
    enrolment over accounts that had MRR then.
    """
    rows = list(
        Enrolment.objects.filter(playbook=playbook).values(
            "holdout", "baseline_health", "baseline_mrr", "account__status", "account__health_score", "account__mrr"
        )
    )
    groups = {False: [r for r in rows if not r["holdout"]], True: [r for r in rows if r["holdout"]]}

    def retained(rs):
        return sum(r["account__status"] != AccountStatus.CHURNED for r in rs)

    def health(rs):
        return [
            r["account__health_score"] - r["baseline_health"]
            for r in rs
            if r["account__health_score"] is not None and r["baseline_health"] is not None
        ]

    def mrr(rs):
        rs = [r for r in rs if r["baseline_mrr"]]
        return [float(r["account__mrr"]) for r in rs], [float(r["baseline_mrr"]) for r in rs]

    enrolled, held = groups[False], groups[True]
    retention = impact.proportion_diff(retained(enrolled), len(enrolled), retained(held), len(held))
    health_change = impact.mean_diff(health(enrolled), health(held))
    nrr = impact.ratio_diff(*mrr(enrolled), *mrr(held))
    return {
        "n_enrolled": len(enrolled),
        "n_holdout": len(held),
        "retention": retention,
        "health_change": health_change,
        "nrr": nrr,
        "significant": {
            k: impact.significant(v)
            for k, v in (("retention", retention), ("health_change", health_change), ("nrr", nrr))
        },
    }
