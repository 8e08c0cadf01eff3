"""The "enrol in playbook" action of rules and playbook steps. It needs the playbook engine, which itself runs
actions, so it lives here and `AutomationsConfig.ready` adds it to `automations.actions`' registry."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from accounts.services import changes_record
from accounts.services.bulk_edits import BulkAction
from accounts.services.bulk_edits import register as register_bulk_action
from automations import actions
from automations.models import Playbook
from automations.playbooks import playbook_enrol, playbook_enrol_many


def enrol_playbook(spec: dict, ctx: actions.ActionContext) -> str:
    playbook = Playbook.objects.filter(key=spec.get("playbook")).first()
    if playbook is None:
        raise actions.ActionError(gettext("No playbook %(playbook)r.") % {"playbook": spec.get("playbook")})
    enrolment, created = playbook_enrol(playbook=playbook, account=ctx.account, source=ctx.key)
    if not created:
        return f"Already in “{playbook.name}”"
    return f"{'Held out of' if enrolment.holdout else 'Enrolled in'} “{playbook.name}”"


def enrol_playbook_many(spec: dict, ctxs: list[actions.ActionContext]) -> list[actions.Outcome]:
    playbook = Playbook.objects.filter(key=spec.get("playbook")).first()
    if playbook is None:
        raise actions.ActionError(gettext("No playbook %(playbook)r.") % {"playbook": spec.get("playbook")})
    results = playbook_enrol_many(
        playbook=playbook, accounts=[ctx.account for ctx in ctxs], sources=[ctx.key for ctx in ctxs]
    )
    return [
        (True, f"Already in “{playbook.name}”")
        if not created
        else (True, f"{'Held out of' if enrolment.holdout else 'Enrolled in'} “{playbook.name}”")
        for enrolment, created in results
    ]


def enrol_bulk_edit(account_ids: list[int], value: str, key: str, actor) -> set[int]:
    """The accounts list's bulk edit "Enrol in playbook": returns the accounts newly enrolled (or held out)."""
    playbook = Playbook.objects.filter(key=value).first()
    if playbook is None:
        raise actions.ActionError(gettext("The playbook %(playbook)r no longer exists.") % {"playbook": value})
    accounts = list(Account.objects.filter(pk__in=account_ids).order_by("pk"))
    source = f"user:{actor.pk}"
    results = playbook_enrol_many(playbook=playbook, accounts=accounts, sources=[source] * len(accounts))
    new = {enrolment.account_id: enrolment.holdout for enrolment, created in results if created}
    for holdout in (False, True):
        verb = "Held out of" if holdout else "Enrolled in"
        changes_record(
            account_ids=[pk for pk, held in new.items() if held == holdout],
            actor=actor,
            field="playbook",
            old="",
            new=playbook.name,
            subject=f"{verb} playbook “{playbook.name}”",
            holdout=holdout,
        )
    return set(new)


def _playbook_choices() -> list[tuple[str, str]]:
    return list(Playbook.objects.filter(enabled=True).order_by("name").values_list("key", "name"))


def register() -> None:
    """Add the action to the rules' registry and the bulk edit to the accounts list's (`AutomationsConfig.ready`)."""
    actions.register(
        "enrol_playbook", label=_("Enrol in playbook (playbook)"), one=enrol_playbook, many=enrol_playbook_many
    )
    register_bulk_action(BulkAction("playbook", _("Enrol in playbook"), enrol_bulk_edit, choices=_playbook_choices))
