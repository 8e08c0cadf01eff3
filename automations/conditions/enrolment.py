"""Conditions on an account's enrolment in a playbook, usable only in the playbook's branches and waits: whether
the emails its steps sent were opened or clicked, and how the tasks its steps created turned out.

Each compiles, like every condition, to a Q on Account: the account's active enrolment in the playbook being
advanced (there is at most one) has a step run whose email or task is in that state. So a group of enrolments at
the same step is evaluated in one query, whatever its size.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from accounts.models import TaskStatus
from automations.conditions.base import Compiled, ConditionError, Context, as_int
from automations.models import EnrolmentStatus, EnrolmentStepRun

TASK_OUTCOMES = ("completed", "not_completed", "overdue")


def _runs(spec: dict, ctx: Context):
    """The step runs of the account's active enrolment in the playbook (of one step when `step` is given)."""
    if not ctx.in_playbook:
        raise ConditionError(
            _("%(type)s: only a playbook's branch or wait can use this condition.") % {"type": spec.get("type")}
        )
    runs = EnrolmentStepRun.objects.filter(
        enrolment__playbook_id=ctx.playbook_id,
        enrolment__status=EnrolmentStatus.ACTIVE,
        enrolment__account_id=OuterRef("pk"),
    )
    if "step" in spec:
        runs = runs.filter(order=as_int(spec, "step"))
    return runs


def _email(field: str):
    def compile_(spec: dict, ctx: Context) -> Compiled:
        return Compiled(q=Q(Exists(_runs(spec, ctx).filter(**{f"email__{field}__isnull": False}))))

    return compile_


def _task_outcome(spec: dict, ctx: Context) -> Compiled:
    outcome = spec.get("outcome")
    if outcome not in TASK_OUTCOMES:
        raise ConditionError(
            _("task_outcome: 'outcome' is one of %(values)s, not %(outcome)r.")
            % {"values": ", ".join(TASK_OUTCOMES), "outcome": outcome}
        )
    runs = _runs(spec, ctx).filter(task__isnull=False)
    if outcome == "completed":
        runs = runs.filter(task__status=TaskStatus.DONE)
    elif outcome == "not_completed":
        runs = runs.exclude(task__status=TaskStatus.DONE)
    else:
        runs = runs.filter(task__status=TaskStatus.OPEN, task__due_date__lt=ctx.today)
    return Compiled(q=Q(Exists(runs)))


email_opened = _email("opened_at")
email_clicked = _email("clicked_at")
