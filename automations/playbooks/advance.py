"""Advancing enrolments through their steps, set-based: the enrolments at the same step move together.

A task or email step runs at once and goes on to the next step; a wait pauses the enrolment for N days — or,
with `until`, until its condition holds (checked by the periodic advance) or N days have passed, whichever comes
first; a branch goes to its then / else target. Every step an enrolment runs is a step run (its path), written
in the same transaction as its effect.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Account
from audit.context import Actor, acting
from audit.models import ActorKind
from automations import actions, conditions
from automations.models import Enrolment, EnrolmentStatus, EnrolmentStepRun, PlaybookStep, StepKind, StepOutcome
from automations.playbooks.core import mark_stopped
from automations.playbooks.validation import NEXT, STOP, branch_target
from messaging.models import EmailMessage

logger = logging.getLogger(__name__)
ADVANCE_CHUNK = 200  # enrolments advanced per transaction
# How often an enrolment waiting until a condition is checked again (the periodic advance picks it up then).
UNTIL_RECHECK = dt.timedelta(minutes=15)
ENROLMENT_FIELDS = ["status", "stop_reason", "finished_at", "next_run_at", "step", "wait_deadline"]


@dataclass
class _Batch:
    now: dt.datetime
    accounts: dict[int, Account]
    visits: dict[tuple[int, int], int]
    new_runs: list[EnrolmentStepRun] = field(default_factory=list)
    ended_waits: list[EnrolmentStepRun] = field(default_factory=list)

    def run(self, enrolment: Enrolment, step: PlaybookStep, detail: str, *, ok: bool = True, outcome: str = "",
            next_order: int | None = None) -> EnrolmentStepRun:  # fmt: skip
        visit = self.visits.get((enrolment.pk, step.order), 0) + 1
        self.visits[(enrolment.pk, step.order)] = visit
        run = EnrolmentStepRun(
            enrolment=enrolment, order=step.order, visit=visit, kind=step.kind, ok=ok, detail=detail[:2000],
            outcome=outcome, next_order=next_order, ran_at=self.now,
        )  # fmt: skip
        self.new_runs.append(run)
        return run


def enrolment_advance(*, enrolment: Enrolment, now: dt.datetime | None = None) -> str:
    """Run the enrolment's due steps up to the next wait (inside the caller's transaction). Returns its status."""
    return enrolments_advance(enrolments=[enrolment], now=now)[enrolment.pk]


def _step_at(steps: dict[int, PlaybookStep], order: int) -> PlaybookStep | None:
    """The step numbered `order`, or the next one after it (the steps were edited), or None: the end."""
    if order in steps:
        return steps[order]
    return next((steps[o] for o in sorted(steps) if o >= order), None)


def enrolments_advance(*, enrolments: list[Enrolment], now: dt.datetime | None = None) -> dict[int, str]:
    """Run the due steps of many enrolments up to their next wait (inside the caller's transaction), set-based.

    Enrolments at the same step of the same playbook move together: a task or email step runs once for all of
    them (`actions.run_many_isolated`: one INSERT of tasks …, a failure recorded per account and the playbook
    going on), a branch or a wait's condition is one query for all their accounts, and the step runs are written
    in one INSERT, the enrolments in one UPDATE. Returns each status.
    """
    now = now or timezone.now()
    due = [e for e in enrolments
           if e.status == EnrolmentStatus.ACTIVE and not (e.next_run_at and e.next_run_at > now)]  # fmt: skip
    if not due:
        return {e.pk: e.status for e in enrolments}
    steps: dict[int, dict[int, PlaybookStep]] = {}
    for step in PlaybookStep.objects.filter(playbook_id__in={e.playbook_id for e in due}).order_by("order"):
        steps.setdefault(step.playbook_id, {})[step.order] = step
    visits = {
        (row["enrolment_id"], row["order"]): row["n"]
        for row in EnrolmentStepRun.objects.filter(enrolment__in=due)
        .values("enrolment_id", "order")
        .annotate(n=Count("id"))
        .order_by()
    }
    accounts = Account.objects.select_related("owner").in_bulk([e.account_id for e in due])
    batch = _Batch(now=now, accounts=accounts, visits=visits)
    ran: dict[int, int] = {}
    moving = due
    while moving:
        at_step: dict[int, tuple[PlaybookStep, list[Enrolment]]] = {}
        for enrolment in moving:
            playbook_steps = steps.get(enrolment.playbook_id, {})
            step = _step_at(playbook_steps, enrolment.step)
            ran[enrolment.pk] = ran.get(enrolment.pk, 0) + 1
            if step is None:
                enrolment.status = EnrolmentStatus.COMPLETED
                enrolment.finished_at, enrolment.next_run_at, enrolment.wait_deadline = now, None, None
            elif ran[enrolment.pk] > 2 * len(playbook_steps) + 2:  # a loop without a wait (saved before checks)
                mark_stopped(enrolment, "Loop without a wait", now)
            else:
                at_step.setdefault(step.pk, (step, []))[1].append(enrolment)
        moving = []
        for step, group in at_step.values():
            moving.extend(_step_run(step, group, batch))
    EnrolmentStepRun.objects.bulk_create(batch.new_runs, batch_size=2000)
    if batch.ended_waits:
        EnrolmentStepRun.objects.bulk_update(batch.ended_waits, ["outcome", "detail", "next_order"])
    Enrolment.objects.bulk_update(due, ENROLMENT_FIELDS)
    return {e.pk: e.status for e in enrolments}


def _holding(tree: dict, group: list[Enrolment], now: dt.datetime) -> set[int]:
    """The accounts of the group for which the condition holds: one query."""
    in_group = Account.objects.filter(pk__in=[e.account_id for e in group])
    rows, _ = conditions.matching(tree, now=now, queryset=in_group, playbook_id=group[0].playbook_id)
    return {row["pk"] for row in rows}


def _step_run(step: PlaybookStep, group: list[Enrolment], batch: _Batch) -> list[Enrolment]:
    """One step for the enrolments at it; returns those that go on to another step now."""
    if step.kind == StepKind.WAIT and "until" in step.config:
        return _wait_until(step, group, batch)
    for enrolment in group:
        enrolment.wait_deadline = None
    if step.kind == StepKind.WAIT:
        days = float(step.config.get("days", 1))
        until = batch.now + dt.timedelta(days=days)
        for enrolment in group:
            enrolment.next_run_at, enrolment.step = until, step.order + 1
            batch.run(enrolment, step, f"Wait {days:g} days, until {until:%Y-%m-%d %H:%M}", next_order=step.order + 1)
        return []
    if step.kind == StepKind.BRANCH:
        return _branch(step, group, batch)
    return _action(step, group, batch)


def _branch(step: PlaybookStep, group: list[Enrolment], batch: _Batch) -> list[Enrolment]:
    held = _holding(step.config.get("condition") or {}, group, batch.now)
    moving = []
    for enrolment in group:
        exit_ = StepOutcome.THEN if enrolment.account_id in held else StepOutcome.ELSE
        said = "Condition held" if exit_ == StepOutcome.THEN else "Condition did not hold"
        target = branch_target(step.config, exit_)
        if target == STOP:
            mark_stopped(enrolment, step.config.get("reason") or said, batch.now)
            batch.run(enrolment, step, f"{said}: stopped", outcome=exit_)
            continue
        enrolment.step = step.order + 1 if target == NEXT else int(target)
        what = "continue" if target == NEXT else f"go to step {enrolment.step}"
        batch.run(enrolment, step, f"{said}: {what}", outcome=exit_, next_order=enrolment.step)
        moving.append(enrolment)
    return moving


def _wait_until(step: PlaybookStep, group: list[Enrolment], batch: _Batch) -> list[Enrolment]:
    """A wait until a condition: on arrival the enrolment pauses (its deadline set); when the periodic advance
    checks it again it moves on if the condition holds or the deadline has passed, and its step run says which."""
    now, days = batch.now, float(step.config.get("days", 1))
    arriving = [e for e in group if e.wait_deadline is None]
    waiting = [e for e in group if e.wait_deadline is not None]
    for enrolment in arriving:
        enrolment.wait_deadline = now + dt.timedelta(days=days)
        enrolment.step, enrolment.next_run_at = step.order, min(enrolment.wait_deadline, now + UNTIL_RECHECK)
        detail = (
            f"Wait until the condition holds, at most {days:g} days (until {enrolment.wait_deadline:%Y-%m-%d %H:%M})"
        )
        batch.run(enrolment, step, detail, outcome=StepOutcome.WAITING)
    if not waiting:
        return []
    held = _holding(step.config["until"], waiting, now)
    open_runs = {
        run.enrolment_id: run
        for run in EnrolmentStepRun.objects.filter(
            enrolment__in=waiting, order=step.order, outcome=StepOutcome.WAITING
        ).order_by("visit")
    }
    moving = []
    for enrolment in waiting:
        if enrolment.account_id in held:
            outcome, said = StepOutcome.CONDITION, f"Condition held on {now:%Y-%m-%d %H:%M}: continue"
        elif now >= enrolment.wait_deadline:
            outcome, said = StepOutcome.TIMEOUT, f"Waited {days:g} days without the condition: continue"
        else:
            enrolment.next_run_at = min(enrolment.wait_deadline, now + UNTIL_RECHECK)
            continue
        enrolment.step, enrolment.wait_deadline, enrolment.next_run_at = step.order + 1, None, None
        if (run := open_runs.get(enrolment.pk)) is not None:
            run.outcome, run.detail, run.next_order = outcome, f"{run.detail} — {said}"[:2000], step.order + 1
            batch.ended_waits.append(run)
        moving.append(enrolment)
    return moving


def _step_action(step: PlaybookStep) -> dict:
    if step.kind == StepKind.TASK:
        return {"type": "create_task", **step.config}
    return {"type": "send_email", **step.config}


def _action(step: PlaybookStep, group: list[Enrolment], batch: _Batch) -> list[Enrolment]:
    """A task or email step: run once for the group; the step runs keep the task or email created."""
    playbook = group[0].playbook
    keys = []
    for enrolment in group:
        visit = batch.visits.get((enrolment.pk, step.order), 0) + 1
        keys.append(f"enrolment:{enrolment.pk}:{step.order}" + (f":{visit}" if visit > 1 else ""))
    ctxs = [
        actions.ActionContext(account=batch.accounts[e.account_id], source="playbook", key=key, label=playbook.name)
        for e, key in zip(group, keys, strict=True)
    ]
    with acting(actor=Actor(ActorKind.PLAYBOOK, str(playbook.pk), playbook.name)):
        outcomes = actions.run_many_isolated(_step_action(step), ctxs, what=f"Playbook {playbook.pk} step {step.order}")
    emails = {}
    if step.kind == StepKind.EMAIL:
        emails = {m.dedupe_key: m.pk for m in EmailMessage.objects.filter(dedupe_key__in=keys).only("id", "dedupe_key")}
    for enrolment, ctx, key, (ok, detail) in zip(group, ctxs, keys, outcomes, strict=True):
        if not ok:  # recorded on the enrolment's step run: never silent
            logger.warning("Playbook %s step %s failed for account %s: %s", playbook.pk, step.order,
                           enrolment.account_id, detail)  # fmt: skip
        enrolment.step = step.order + 1
        run = batch.run(enrolment, step, detail, ok=ok, next_order=step.order + 1)
        task = getattr(ctx, "created_task", None)
        run.task_id = task.pk if ok and task is not None else None
        run.email_id = emails.get(key)
    return group


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
