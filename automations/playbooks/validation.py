"""A playbook's steps checked before they are saved: each step's parameters, and the routes of the whole flow.

A branch routes to a target — a step number, "next" or "stop" — for each of its exits ("then" when its condition
holds, "else" otherwise; by default then=stop, else=next: the meaning branches had before they could route).
The routes must name existing steps, a step must not route to itself, and every loop must pass through a wait
(a loop without one would spin in a single advance).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.models import TaskPriority
from automations import conditions
from automations.models import StepKind
from messaging.models import EmailTemplate

NEXT, STOP = "next", "stop"
DEFAULT_TARGETS = {"then": STOP, "else": NEXT}


class PlaybookInvalid(ValueError):
    """A playbook or one of its steps is not valid (shown in the editor, on the field when `step`/`field` say
    which: the step number from 1 and "params", "then", "else" or "until")."""

    def __init__(self, message: str, *, step: int | None = None, field: str = "params") -> None:
        super().__init__(message)
        self.step, self.field = step, field


def branch_target(config: dict, exit_: str) -> int | str:
    """A branch's target for an exit ("then" / "else"): a step number, "next" or "stop" (defaults for old configs)."""
    target = config.get(exit_, DEFAULT_TARGETS[exit_])
    return DEFAULT_TARGETS[exit_] if target in (None, "") else target


def _where(n: int, kind: str) -> str:
    return _("Step %(n)s (%(kind)s)") % {"n": n, "kind": kind}


def _check_condition(n: int, kind: str, tree, field: str) -> None:
    try:
        conditions.validate(tree or {}, playbook=True)
    except conditions.ConditionError as exc:
        raise PlaybookInvalid(f"{_where(n, kind)}: {exc}", step=n, field=field) from exc


def step_validate(n: int, kind: str, config: dict) -> dict:
    """A step's config, checked and normalised; PlaybookInvalid names the step."""
    where = _where(n, kind)
    if not isinstance(config, dict):
        raise PlaybookInvalid(f"{where}: " + _("the parameters must be key=value pairs."), step=n)
    if kind == StepKind.TASK:
        if not str(config.get("title", "")).strip():
            raise PlaybookInvalid(f"{where}: " + _("a task needs a title."), step=n)
        assignee = str(config.get("assignee", "owner"))
        if assignee != "owner" and not assignee.startswith(("role:", "user:")):
            raise PlaybookInvalid(f"{where}: " + _("assignee is owner, role:<Role> or user:<username>."), step=n)
        if config.get("priority", TaskPriority.NORMAL) not in TaskPriority.values:
            message = _("priority is one of %(values)s.") % {"values": ", ".join(TaskPriority.values)}
            raise PlaybookInvalid(f"{where}: {message}", step=n)
        due = config.get("due_in_days")
        if due is not None and (isinstance(due, bool) or not isinstance(due, int) or not 0 <= due <= 365):
            raise PlaybookInvalid(f"{where}: " + _("due_in_days is a whole number of days from 0 to 365."), step=n)
    elif kind == StepKind.EMAIL:
        if not EmailTemplate.objects.filter(key=config.get("template", "")).exists():
            message = _("no email template %(template)r.") % {"template": config.get("template", "")}
            raise PlaybookInvalid(f"{where}: {message}", step=n)
        if config.get("to", "contact") not in ("contact", "owner"):
            raise PlaybookInvalid(f"{where}: " + _("to is contact or owner."), step=n)
    elif kind == StepKind.WAIT:
        days = config.get("days")
        if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= 365:
            raise PlaybookInvalid(f"{where}: " + _("wait a number of days from 1 to 365 (days=7)."), step=n)
        if "until" in config:
            _check_condition(n, kind, config["until"], "until")
    elif kind == StepKind.BRANCH:
        _check_condition(n, kind, config.get("condition"), "params")
    else:
        raise PlaybookInvalid(_("Step %(n)s: unknown kind %(kind)r.") % {"n": n, "kind": kind}, step=n)
    return config


def _route(n: int, kind: str, config: dict, exit_: str, count: int) -> int | None:
    """The step an exit leads to (None: the enrolment ends there), checked."""
    target = branch_target(config, exit_)
    if target == NEXT:
        return n + 1 if n < count else None
    if target == STOP:
        return None
    if isinstance(target, str) and target.isdigit():
        target = int(target)
    if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= count:
        message = _("'%(exit)s' goes to %(target)r: give a step number from 1 to %(count)s, next or stop.") % {
            "exit": exit_, "target": target, "count": count}  # fmt: skip
        raise PlaybookInvalid(f"{_where(n, kind)}: {message}", step=n, field=exit_)
    if target == n:
        message = _("'%(exit)s' routes the step to itself.") % {"exit": exit_}
        raise PlaybookInvalid(f"{_where(n, kind)}: {message}", step=n, field=exit_)
    return target


def routes_validate(steps: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """Check the branches' targets and that every loop passes a wait; branch targets given as digits become
    numbers. Returns the steps."""
    count = len(steps)
    successors: dict[int, list[int]] = {}
    for n, (kind, config) in enumerate(steps, start=1):
        if kind == StepKind.BRANCH:
            outs = [_route(n, kind, config, exit_, count) for exit_ in ("then", "else")]
            for exit_ in ("then", "else"):
                if isinstance(config.get(exit_), str) and config[exit_].isdigit():
                    config[exit_] = int(config[exit_])
            successors[n] = [o for o in outs if o is not None]
        else:
            successors[n] = [n + 1] if n < count else []
    cycle = _cycle_without_wait(successors, {n for n, (kind, _c) in enumerate(steps, start=1) if kind == "wait"})
    if cycle:
        last = cycle[-1]
        message = _("it loops back without a wait (steps %(path)s): add a wait step to the loop.") % {
            "path": " → ".join(str(s) for s in [*cycle, cycle[0]])}  # fmt: skip
        kind, config = steps[last - 1]
        field = next((e for e in ("then", "else") if branch_target(config, e) == cycle[0]), "params")
        raise PlaybookInvalid(f"{_where(last, kind)}: {message}", step=last, field=field)
    return steps


def _cycle_without_wait(successors: dict[int, list[int]], waits: set[int]) -> list[int]:
    """A cycle of the route graph through no wait step (its steps in order), or []."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    path: list[int] = []

    def visit(n: int) -> list[int]:
        state[n] = 1
        path.append(n)
        for m in successors.get(n, []):
            if m in waits:
                continue
            if state.get(m) == 1:
                return path[path.index(m) :]
            if m not in state and (found := visit(m)):
                return found
        path.pop()
        state[n] = 2
        return []

    for start in sorted(successors):
        if start not in waits and start not in state and (found := visit(start)):
            return found
    return []
