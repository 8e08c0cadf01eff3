"""Trigger rules: save, dry run, evaluate (set-based), run the actions of pending executions, YAML export/import.

A cycle has two phases:
1. `rule_evaluate` selects the candidate accounts of a rule in one SQL query (conditions, minus accounts in
   cooldown or with the rule's task still open) and inserts their executions (status pending) in one
   transaction. A unique key (rule, account, cooldown window) means two workers evaluating at once never
   insert two executions; on PostgreSQL an advisory lock also keeps them from evaluating the same rule at once.
2. `executions_run_pending` takes pending executions one by one (`select_for_update(skip_locked=True)`) and
   runs their actions inside that execution's transaction: a worker killed mid-way rolls everything of that
   execution back and the next worker runs it again, so nothing is missed and nothing is done twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import yaml
from django.db import connection, transaction
from django.db.models import BigIntegerField, CharField, DateTimeField, Q, Value
from django.utils import timezone

from accounts.models import Account, SupportTicket, SurveyResponse
from automations import actions, conditions, conf
from automations.models import ActionRun, ExecutionStatus, Rule, RuleExecution

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

RULE_FIELDS = ("key", "name", "description", "enabled", "cooldown_days", "conditions", "actions")


class RuleInvalid(ValueError):
    pass


def rule_validate(*, conditions_tree: dict, actions_list: list) -> None:
    try:
        conditions.validate(conditions_tree)
        actions.validate(actions_list)
    except (conditions.ConditionError, actions.ActionError) as exc:
        raise RuleInvalid(str(exc)) from exc


def rule_save(
    *,
    key: str,
    name: str,
    conditions_tree: dict,
    actions_list: list,
    description: str = "",
    cooldown_days: int = 7,
    enabled: bool | None = None,
    actor: AbstractBaseUser | None = None,
    rule: Rule | None = None,
) -> Rule:
    """Create or update a rule (validated: conditions compile and actions are known)."""
    rule_validate(conditions_tree=conditions_tree, actions_list=actions_list)
    rule = rule or Rule.objects.filter(key=key).first() or Rule(key=key, created_by=actor)
    rule.key, rule.name, rule.description = key, name, description
    rule.conditions, rule.actions, rule.cooldown_days = conditions_tree, actions_list, cooldown_days
    if enabled is not None:
        rule.enabled = enabled
    rule.full_clean()
    rule.save()
    return rule


def rule_set_enabled(*, rule: Rule, enabled: bool) -> Rule:
    rule.enabled = enabled
    rule.save(update_fields=["enabled", "updated_at"])
    return rule


# --- Candidates ------------------------------------------------------------------------------------------------------


def _window(rule: Rule, now: dt.datetime) -> int:
    period = max(rule.cooldown_days * 86400, conf.get("RULES_INTERVAL"), 60)
    return int(now.timestamp()) // period


def _eligible(rule: Rule, now: dt.datetime, account_ids: list[int] | None = None):
    """Accounts that may fire: not in cooldown and without an open task from this rule."""
    # NOT IN (hashed subplans): one pass over the rule's recent executions, whatever the planner's statistics.
    recent = RuleExecution.objects.filter(rule=rule, created_at__gt=now - dt.timedelta(days=rule.cooldown_days))
    open_task = RuleExecution.objects.filter(rule=rule, task__status="open")
    qs = Account.objects.exclude(pk__in=recent.values("account_id")).exclude(pk__in=open_task.values("account_id"))
    return qs.filter(pk__in=account_ids) if account_ids is not None else qs


def rule_dry_run(*, rule: Rule | None = None, tree: dict | None = None, now: dt.datetime | None = None, limit=200):
    """The accounts matching now, with their values, and whether each would fire (cooldown / open task)."""
    now = now or timezone.now()
    tree = tree if tree is not None else rule.conditions
    rows, shows = conditions.matching(tree, now=now)
    total = rows.count()
    shown = list(rows[:limit])
    eligible: set[int] = set()
    if rule is not None and rule.pk:
        eligible = set(_eligible(rule, now, [r["pk"] for r in shown]).values_list("pk", flat=True))
    else:
        eligible = {r["pk"] for r in shown}
    return {
        "total": total,
        "labels": [label for _, label in shows],
        "rows": [
            {
                "id": r["pk"],
                "name": r["name"],
                "values": conditions.plain_values(r, shows),
                "would_fire": r["pk"] in eligible,
            }
            for r in shown
        ],
    }


def _try_lock(rule: Rule) -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [5_000_005, rule.pk])
        return cursor.fetchone()[0]


def rule_evaluate(*, rule: Rule, now: dt.datetime | None = None, account_ids: list[int] | None = None) -> int:
    """Phase 1: insert pending executions for every eligible matching account in one INSERT … SELECT.

    Returns how many were inserted (a conflicting row — another worker got there first — is skipped).
    """
    now = now or timezone.now()
    with transaction.atomic():
        if not _try_lock(rule):
            return 0  # another worker is evaluating this rule right now
        qs, shows = conditions.matching_queryset(rule.conditions, now=now, queryset=_eligible(rule, now, account_ids))
        select = (
            qs.order_by()
            .annotate(
                _rule=Value(rule.pk, output_field=BigIntegerField()),
                _window=Value(_window(rule, now), output_field=BigIntegerField()),
                _matched=conditions.matched_json(shows),
                _status=Value(ExecutionStatus.PENDING, output_field=CharField()),
                _created=Value(now, output_field=DateTimeField()),
            )
            .values_list("_rule", "pk", "_window", "_matched", "_status", "_created")
        )
        sql, params = select.query.sql_with_params()
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in ("rule_id", "account_id", "window", "matched", "status", "created_at"))
        table = quote(RuleExecution._meta.db_table)
        if connection.vendor == "sqlite":
            statement = f"INSERT OR IGNORE INTO {table} ({columns}) {sql}"
        else:
            statement = f"INSERT INTO {table} ({columns}) {sql} ON CONFLICT DO NOTHING"
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            inserted = max(cursor.rowcount, 0)
        Rule.objects.filter(pk=rule.pk).update(last_evaluated_at=now, last_matched=inserted)
    return inserted


# --- Running actions -------------------------------------------------------------------------------------------------


def execution_run(*, execution: RuleExecution) -> str:
    """Run an execution's actions (inside the caller's transaction); each action's outcome is recorded."""
    account = Account.objects.select_related("owner").get(pk=execution.account_id)
    rule = execution.rule
    done = set(ActionRun.objects.filter(execution=execution).values_list("index", flat=True))
    ok = failed = 0
    task = None
    for index, spec in enumerate(rule.actions):
        if index in done:
            continue
        ctx = actions.ActionContext(
            account=account,
            source="rule",
            key=f"rule-exec:{execution.pk}:{index}",
            label=rule.name,
            matched=execution.matched,
        )
        try:
            with transaction.atomic():
                detail = actions.run(spec, ctx)
            ok += 1
            ActionRun.objects.create(execution=execution, index=index, kind=spec.get("type", "?"), detail=detail)
        except Exception as exc:  # recorded on the execution log, shown in the UI: never silent
            failed += 1
            logger.warning("Rule %s action %s failed for account %s: %s", rule.pk, index, account.pk, exc)
            ActionRun.objects.create(
                execution=execution, index=index, kind=str(spec.get("type", "?")), ok=False, detail=str(exc)[:2000]
            )
        task = task or ctx.created_task
    execution.status = (
        ExecutionStatus.SUCCEEDED if not failed else ExecutionStatus.PARTIAL if ok else ExecutionStatus.FAILED
    )
    execution.task = task or execution.task
    execution.finished_at = timezone.now()
    execution.save(update_fields=["status", "task", "finished_at"])
    return execution.status


def executions_run_pending(
    *, limit: int | None = None, rule_ids: list[int] | None = None, per_transaction: int = 25
) -> int:
    """Phase 2: run pending executions in small transactions, skipping rows another worker holds.

    A worker killed mid-way rolls its current transaction back entirely (effects and status together), so
    the next worker redoes exactly those executions: nothing twice, nothing missed. Several executions per
    transaction save the commit (fsync) per execution.
    """
    count = 0
    after = 0
    while limit is None or count < limit:
        pending = RuleExecution.objects.filter(status=ExecutionStatus.PENDING, pk__gt=after)
        if rule_ids is not None:
            pending = pending.filter(rule_id__in=rule_ids)
        size = per_transaction if limit is None else min(per_transaction, limit - count)
        batch = list(pending.order_by("pk").values_list("pk", flat=True)[:size])
        if not batch:
            break
        after = batch[-1]  # rows held by another worker are left to it
        with transaction.atomic():
            executions = (
                RuleExecution.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("rule")
                .filter(pk__in=batch, status=ExecutionStatus.PENDING)
                .order_by("pk")
            )
            for execution in executions:
                execution_run(execution=execution)
                count += 1
    return count


def rules_cycle(*, now: dt.datetime | None = None, account_ids: list[int] | None = None) -> dict[str, int]:
    """One evaluation cycle of every enabled rule, then run what fired (and anything left pending)."""
    fired = 0
    rules = list(Rule.objects.filter(enabled=True).order_by("pk"))
    for rule in rules:
        fired += rule_evaluate(rule=rule, now=now, account_ids=account_ids)
    ran = executions_run_pending()
    return {"rules": len(rules), "fired": fired, "ran": ran}


def rule_run_now(*, rule: Rule) -> dict[str, int]:
    """ "Run now" from the editor: evaluate this rule (even when disabled) and run its actions."""
    fired = rule_evaluate(rule=rule)
    ran = executions_run_pending(rule_ids=[rule.pk])
    return {"fired": fired, "ran": ran}


def accounts_with_new_facts(*, since: dt.datetime) -> list[int]:
    """Accounts with a ticket, survey answer, failed payment or activity since `since` (event-driven cycle)."""
    ids = set(SupportTicket.objects.filter(opened_at__gte=since).values_list("account_id", flat=True))
    ids |= set(SurveyResponse.objects.filter(responded_at__gte=since).values_list("account_id", flat=True))
    ids |= set(
        Account.objects.filter(Q(payment_failed_at__gte=since) | Q(last_seen_at__gte=since)).values_list(
            "pk", flat=True
        )
    )
    return sorted(ids)


# --- YAML ------------------------------------------------------------------------------------------------------------


def rules_export_yaml(*, rules: list[Rule] | None = None) -> str:
    rules = rules if rules is not None else list(Rule.objects.order_by("key"))
    data = {"rules": [{f: getattr(r, f) for f in RULE_FIELDS} for r in rules]}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@transaction.atomic
def rules_import_yaml(*, text: str, actor: AbstractBaseUser | None = None) -> dict[str, int]:
    """Create or update rules by key from YAML; all or nothing (any invalid rule rejects the file)."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleInvalid(f"Not valid YAML: {exc}") from exc
    items = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RuleInvalid("Expected a top-level 'rules:' list.")
    created = updated = 0
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not item.get("key") or not item.get("name"):
            raise RuleInvalid(f"Rule #{n}: 'key' and 'name' are required.")
        exists = Rule.objects.filter(key=item["key"]).exists()
        try:
            rule_save(
                key=str(item["key"]),
                name=str(item["name"]),
                description=str(item.get("description", "")),
                conditions_tree=item.get("conditions") or {},
                actions_list=item.get("actions") or [],
                cooldown_days=int(item.get("cooldown_days", 7)),
                enabled=bool(item.get("enabled", False)),
                actor=actor,
            )
        except (RuleInvalid, ValueError) as exc:
            raise RuleInvalid(f"Rule #{n} ({item['key']}): {exc}") from exc
        updated += exists
        created += not exists
    return {"created": created, "updated": updated}
