"""What the automations did: per rule and per playbook, counted in grouped queries (the `automations_report` command).

Per rule: enabled, accounts matching now and those that would fire (the dry run's count), executions by outcome,
and what their actions did (tasks, emails by outbox status, status changes, tags, notifications, enrolments).
Per playbook: enrolments by status and how many were held out. `report_run_builtins` enables the built-in rules
and runs one evaluation cycle through the service the beat task calls (`rules.rules_cycle`, phases 1 and 2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import BigIntegerField, Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, StrIndex, Substr
from django.utils import timezone

from automations import builtins, conditions, rules
from automations.models import ActionRun, EnrolmentStatus, Rule, RuleExecution
from automations.selectors import playbook_list, rule_list
from messaging.models import EmailMessage, EmailSource

EMAIL_KEY_PREFIX = "rule-exec:"  # an action's email dedupe key: rule-exec:<execution id>:<action index>
ACTION_COLUMNS = {  # action kind -> report column
    "create_task": "tasks",
    "set_status": "status_changes",
    "add_tag": "tags",
    "notify": "notifications",
    "enrol_playbook": "enrolments",
}


@dataclass
class RuleReport:
    key: str
    name: str
    enabled: bool
    matching: int
    would_fire: int
    executions: int = 0
    succeeded: int = 0
    partial: int = 0
    failed: int = 0
    pending: int = 0
    actions: dict[str, int] = field(default_factory=dict)  # column -> successful action runs
    actions_failed: int = 0
    emails: dict[str, int] = field(default_factory=dict)  # outbox status -> messages


@dataclass
class PlaybookReport:
    key: str
    name: str
    active: int
    completed: int
    stopped: int
    held_out: int
    total: int


def _counts_by(qs, *keys: str) -> dict[tuple, int]:
    rows = qs.values(*keys).annotate(n=Count("id")).order_by()
    return {tuple(row[k] for k in keys): row["n"] for row in rows}


def _rule_emails_by_status() -> dict[tuple[int, str], int]:
    """Rule emails per (rule id, outbox status): the execution id is read from the dedupe key in SQL."""
    rest = Substr("dedupe_key", len(EMAIL_KEY_PREFIX) + 1)
    execution_id = Cast(Substr(rest, 1, StrIndex(rest, Value(":")) - 1), BigIntegerField())
    qs = (
        EmailMessage.objects.filter(source=EmailSource.RULE, dedupe_key__startswith=EMAIL_KEY_PREFIX)
        .annotate(execution_id=execution_id)
        .annotate(rule_id=Subquery(RuleExecution.objects.filter(pk=OuterRef("execution_id")).values("rule_id")[:1]))
    )
    return _counts_by(qs, "rule_id", "status")


def rule_report(*, now: dt.datetime | None = None) -> list[RuleReport]:
    """One row per rule: a count query per rule for the dry run, grouped queries for everything else."""
    now = now or timezone.now()
    executions = _counts_by(RuleExecution.objects.all(), "rule_id", "status")
    runs = _counts_by(ActionRun.objects.all(), "execution__rule_id", "kind", "ok")
    emails = _rule_emails_by_status()
    out = []
    for rule in rule_list():
        matching = conditions.matching_queryset(rule.conditions, now=now)[0].count()
        eligible = rules._eligible(rule, now)
        would_fire = conditions.matching_queryset(rule.conditions, now=now, queryset=eligible)[0].count()
        row = RuleReport(key=rule.key, name=rule.name, enabled=rule.enabled, matching=matching, would_fire=would_fire)
        for (rule_id, status), n in executions.items():
            if rule_id == rule.pk:
                row.executions += n
                setattr(row, status, getattr(row, status) + n)
        for (rule_id, kind, ok), n in runs.items():
            if rule_id != rule.pk:
                continue
            if not ok:
                row.actions_failed += n
            elif kind in ACTION_COLUMNS:
                row.actions[ACTION_COLUMNS[kind]] = row.actions.get(ACTION_COLUMNS[kind], 0) + n
        row.emails = {status: n for (rule_id, status), n in emails.items() if rule_id == rule.pk}
        out.append(row)
    return out


def playbook_report() -> list[PlaybookReport]:
    """One row per playbook: enrolments by status and the held-out ones (one grouped query)."""

    def count(status: str) -> Count:
        return Count("enrolments", filter=Q(enrolments__status=status), distinct=True)

    qs = playbook_list().annotate(
        n_completed=count(EnrolmentStatus.COMPLETED),
        n_stopped=count(EnrolmentStatus.STOPPED),
    )
    return [
        PlaybookReport(
            key=p.key,
            name=p.name,
            active=p.n_active,
            completed=p.n_completed,
            stopped=p.n_stopped,
            held_out=p.n_holdout,
            total=p.n_total,
        )  # fmt: skip
        for p in qs
    ]


def report_run_builtins(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Install any missing built-ins, enable every built-in rule, then run one evaluation cycle now."""
    builtins.builtins_install()
    keys = [key for key, *_ in builtins.RULES]
    for rule in Rule.objects.filter(key__in=keys, enabled=False).order_by("pk"):
        rules.rule_set_enabled(rule=rule, enabled=True)
    return rules.rules_cycle(now=now)
