"""The "enrol in playbook" action of rules and playbook steps. It needs the playbook engine, which itself runs
actions, so it lives here and `AutomationsConfig.ready` adds it to `automations.actions`' registry."""

from __future__ import annotations

from automations import actions
from automations.models import Playbook
from automations.playbooks import playbook_enrol, playbook_enrol_many


def enrol_playbook(spec: dict, ctx: actions.ActionContext) -> str:
    playbook = Playbook.objects.filter(key=spec.get("playbook")).first()
    if playbook is None:
        raise actions.ActionError(f"No playbook {spec.get('playbook')!r}.")
    enrolment, created = playbook_enrol(playbook=playbook, account=ctx.account, source=ctx.key)
    if not created:
        return f"Already in “{playbook.name}”"
    return f"{'Held out of' if enrolment.holdout else 'Enrolled in'} “{playbook.name}”"


def enrol_playbook_many(spec: dict, ctxs: list[actions.ActionContext]) -> list[actions.Outcome]:
    playbook = Playbook.objects.filter(key=spec.get("playbook")).first()
    if playbook is None:
        raise actions.ActionError(f"No playbook {spec.get('playbook')!r}.")
    results = playbook_enrol_many(
        playbook=playbook, accounts=[ctx.account for ctx in ctxs], sources=[ctx.key for ctx in ctxs]
    )
    return [
        (True, f"Already in “{playbook.name}”")
        if not created
        else (True, f"{'Held out of' if enrolment.holdout else 'Enrolled in'} “{playbook.name}”")
        for enrolment, created in results
    ]


def register() -> None:
    """Add the action to the registry (`AutomationsConfig.ready`)."""
    actions.register(
        "enrol_playbook", label="Enrol in playbook (playbook)", one=enrol_playbook, many=enrol_playbook_many
    )
