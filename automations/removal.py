"""Deleting configuration objects that others name by key: a playbook a rule enrols in, an email template a rule or
a playbook step sends. Such a deletion is refused (`InUse`, naming who uses it) rather than leaving a rule or a step
that fails on every run; the rest is deleted with what hangs on it (a rule's executions, a journey's progress)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from automations.models import Journey, Playbook, PlaybookStep, Rule, StepKind
from messaging.models import EmailTemplate


class InUse(ValueError):
    """The object is still referenced by other configuration; the message names it."""


def _rules_whose_actions(match) -> list[str]:
    """Names of the rules with an action `match(action)` holds for (one query; there are tens of rules)."""
    return [
        name
        for name, actions in Rule.objects.order_by("name").values_list("name", "actions")
        if any(isinstance(a, dict) and match(a) for a in actions or [])
    ]


def template_users(*, key: str) -> list[str]:
    """Who sends the email template `key`: rules (send_email actions) and playbooks (email steps)."""
    steps = (
        PlaybookStep.objects.filter(kind=StepKind.EMAIL, config__template=key)
        .order_by("playbook__name")
        .values_list("playbook__name", flat=True)
        .distinct()
    )
    rules = _rules_whose_actions(lambda a: a.get("type") == "send_email" and a.get("template") == key)
    return [gettext("rule “%(name)s”") % {"name": n} for n in rules] + [
        gettext("playbook “%(name)s”") % {"name": n} for n in steps
    ]


def playbook_users(*, key: str) -> list[str]:
    """The rules that enrol accounts in the playbook `key`."""
    rules = _rules_whose_actions(lambda a: a.get("type") == "enrol_playbook" and a.get("playbook") == key)
    return [gettext("rule “%(name)s”") % {"name": n} for n in rules]


def _refuse_if_used(what: str, users: list[str]) -> None:
    if users:
        raise InUse(gettext("%(what)s is used by %(users)s.") % {"what": what, "users": ", ".join(users)})


@transaction.atomic
def rule_delete(*, rule: Rule) -> None:
    """Delete a rule with its executions (the tasks it created stay)."""
    rule.delete()


@transaction.atomic
def playbook_delete(*, playbook: Playbook) -> None:
    """Delete a playbook with its steps and enrolments, unless a rule enrols accounts in it."""
    _refuse_if_used(gettext("Playbook “%(name)s”") % {"name": playbook.name}, playbook_users(key=playbook.key))
    playbook.delete()


@transaction.atomic
def journey_delete(*, journey: Journey) -> None:
    """Delete a journey with its milestones and the accounts' progress on them."""
    journey.delete()


@transaction.atomic
def email_template_delete(*, template: EmailTemplate) -> None:
    """Delete an email template unless a rule or a playbook step sends it (messages sent with it keep their text)."""
    _refuse_if_used(gettext("Template “%(name)s”") % {"name": template.name}, template_users(key=template.key))
    template.delete()
