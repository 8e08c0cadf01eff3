"""Playbooks: enrol accounts (with a random holdout share), advance their steps, report the impact per path.

Steps run in order unless a branch routes elsewhere. `task` and `email` run at once and move on; `wait` pauses
the enrolment for N days, or until its condition holds (at most N days); `branch` goes to its `then` target when
its condition holds for the enrolment, else to its `else` target (a step number, "next" or "stop"; by default it
stops the enrolment when the condition holds). Each step an enrolment runs is recorded (its path) inside the same
transaction as its effect.

- `validation`: the steps' parameters and the flow's routes (PlaybookInvalid names the step and field);
- `core`: saving playbooks, enrolling accounts, stopping enrolments;
- `advance`: running due steps, set-based;
- `report`: the impact (enrolled vs held out) and the paths enrolments took;
- `flow`: the playbook drawn as a flow of boxes and arrows.
"""

from automations.playbooks.advance import (
    ADVANCE_CHUNK,
    UNTIL_RECHECK,
    advance_many,
    advance_one,
    enrolment_advance,
    enrolments_advance,
    enrolments_advance_due,
)
from automations.playbooks.core import (
    enrolment_stop,
    in_holdout,
    playbook_enrol,
    playbook_enrol_many,
    playbook_save,
)
from automations.playbooks.report import enrolment_paths, playbook_exits, playbook_impact, playbook_paths
from automations.playbooks.validation import NEXT, STOP, PlaybookInvalid, branch_target

__all__ = [
    "ADVANCE_CHUNK",
    "NEXT",
    "STOP",
    "UNTIL_RECHECK",
    "PlaybookInvalid",
    "advance_many",
    "advance_one",
    "branch_target",
    "enrolment_advance",
    "enrolment_paths",
    "enrolment_stop",
    "enrolments_advance",
    "enrolments_advance_due",
    "in_holdout",
    "playbook_enrol",
    "playbook_enrol_many",
    "playbook_exits",
    "playbook_impact",
    "playbook_paths",
    "playbook_save",
]
