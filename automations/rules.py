"""Trigger rules: save, dry run, evaluate (set-based), run the actions of pending executions, YAML export/import.

A cycle has two phases:
1. `rule_evaluate` selects the candidate accounts of a rule in one SQL query (conditions, minus accounts in
   cooldown or with the rule's task still open) and inserts their executions (status pending) in one
   transaction. A unique key (rule, account, cooldown window) means two workers evaluating at once never
   insert two executions; on PostgreSQL an advisory lock also keeps them from evaluating the same rule at once.
2. `executions_run_pending` takes a rule's pending executions a chunk at a time (`select_for_update(
   skip_locked=True)`) and runs each action once for the whole chunk, set-based (one INSERT of tasks, one UPDATE
   of statuses, emails queued together through the outbox and its frequency cap), inside the chunk's
   transaction: a worker killed mid-way rolls that chunk back and the next worker runs it again, so nothing is
   missed and nothing is done twice. Outcomes are still recorded per execution.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, CharField, DateTimeField, Q, Value
from django.utils import timezone

from accounts.models import Account, SupportTicket, SurveyResponse
from audit.context import Actor, acting
from audit.models import ActorKind
from automations import actions, conditions, conf
from automations.models import ActionRun, ExecutionStatus, Rule, RuleExecution

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

RULE_FIELDS = ("key", "name", "description", "enabled", "cooldown_days", "conditions", "actions")
ANALYZE_AFTER_ROWS = 10_000
# The columns the plans of the cooldown and open-task exclusions and of phase 2 depend on. Leaving out the matched
# values (JSON) halves the time of an ANALYZE of the executions table.
ANALYZE_COLUMNS = ("rule_id", "account_id", "created_at", "status", "task_id")


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


def _period(rule: Rule) -> int:
    """The length of a cooldown window in seconds: the cooldown, or the cycle's interval when that is longer."""
    return max(rule.cooldown_days * 86400, conf.get("RULES_INTERVAL"), 60)


def _window(rule: Rule, now: dt.datetime) -> int:
    return int(now.timestamp()) // _period(rule)


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
        "labels": [conditions.matched_label(label) for _, label in shows],
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


def _insert_new(insert: str, params: list, *, conflicts_expected: bool) -> int:
    """PostgreSQL: run `insert` (INSERT … SELECT) skipping rows whose unique key is taken; returns the rows inserted.

    ON CONFLICT DO NOTHING makes every row a speculative insertion (a lock and an extra WAL record per row: about a
    sixth of a cold cycle). When the cooldown already leaves out every account with an execution in the window, a
    conflict only means a worker racing us: the plain INSERT fails, rolls back to its savepoint, and the statement
    runs again with ON CONFLICT DO NOTHING, with the same result.
    """
    with connection.cursor() as cursor:
        if not conflicts_expected:
            try:
                with transaction.atomic():
                    cursor.execute(insert, params)
                return max(cursor.rowcount, 0)
            except IntegrityError:
                pass
        cursor.execute(f"{insert} ON CONFLICT DO NOTHING", params)
        return max(cursor.rowcount, 0)


def executions_analyze(*, inserted: int) -> bool:
    """Fresh planner statistics of the executions table after a big insert (a first cycle); True if it ran.

    With stale ones the planner takes the executions table for empty and re-scans it per account in the cooldown
    exclusion of the next cycle (minutes instead of a second). Once per cycle, not once per rule (each ANALYZE
    samples the whole table, a quarter of a cold cycle when run after every rule), and only the planner's columns.
    """
    if inserted < ANALYZE_AFTER_ROWS or connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ANALYZE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {quote(RuleExecution._meta.db_table)} ({columns})")
    return True


def rule_evaluate(
    *, rule: Rule, now: dt.datetime | None = None, account_ids: list[int] | None = None, analyze: bool = True
) -> int:
    """Phase 1: insert pending executions for every eligible matching account in one INSERT … SELECT.

    Returns how many were inserted (a conflicting row — another worker got there first — is skipped). `analyze`
    refreshes the table's statistics after a big insert; a cycle of several rules does it once at the end instead.
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
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT OR IGNORE INTO {table} ({columns}) {sql}", params)
                inserted = max(cursor.rowcount, 0)
        else:
            # An execution of this window is within the cooldown, and so left out, unless the window is longer.
            covered = rule.cooldown_days * 86400 >= _period(rule)
            inserted = _insert_new(f"INSERT INTO {table} ({columns}) {sql}", params, conflicts_expected=not covered)
        Rule.objects.filter(pk=rule.pk).update(last_evaluated_at=now, last_matched=inserted)
    if analyze:
        executions_analyze(inserted=inserted)
    return inserted


# --- Running actions -------------------------------------------------------------------------------------------------


def _run_action(rule: Rule, index: int, spec: dict, ctxs: list[actions.ActionContext]) -> list[actions.Outcome]:
    """One action of a rule for a chunk of executions, set-based; failures are recorded per execution."""
    return actions.run_many_isolated(spec, ctxs, what=f"Rule {rule.pk} action {index}")


def executions_run(*, rule: Rule, executions: list[RuleExecution]) -> dict[int, str]:
    """Run the actions of a chunk of one rule's executions (inside the caller's transaction), set-based.

    Each action runs once for the whole chunk (one INSERT of tasks, one UPDATE of statuses …); its outcome is
    recorded per execution (ActionRun), failures with their error. Actions an execution already ran (a retry)
    are skipped. Returns each execution's final status.
    """
    if not executions:
        return {}
    accounts = Account.objects.select_related("owner").in_bulk([e.account_id for e in executions])
    done = set(ActionRun.objects.filter(execution__in=executions).values_list("execution_id", "index").order_by())
    ok = dict.fromkeys((e.pk for e in executions), 0)
    failed = dict.fromkeys((e.pk for e in executions), 0)
    tasks: dict[int, Any] = {}
    runs: list[ActionRun] = []
    now = timezone.now()
    for index, spec in enumerate(rule.actions):
        todo = [e for e in executions if (e.pk, index) not in done]
        ctxs = [
            actions.ActionContext(
                account=accounts[e.account_id],
                source="rule",
                key=f"rule-exec:{e.pk}:{index}",
                label=rule.name,
                matched=e.matched,
            )
            for e in todo
        ]
        kind = str(spec.get("type", "?"))[:32]
        with acting(actor=Actor(ActorKind.RULE, str(rule.pk), rule.name)):
            outcomes = list(_run_action(rule, index, spec, ctxs))
        for execution, ctx, (success, detail) in zip(todo, ctxs, outcomes, strict=True):
            runs.append(
                ActionRun(execution=execution, index=index, kind=kind, ok=success, detail=detail[:2000], created_at=now)
            )
            if success:
                ok[execution.pk] += 1
            else:
                failed[execution.pk] += 1
                logger.warning("Rule %s action %s failed for account %s: %s", rule.pk, index, ctx.account.pk, detail)
            if ctx.created_task is not None:
                tasks.setdefault(execution.pk, ctx.created_task)
    ActionRun.objects.bulk_create(runs, batch_size=2000)
    finished = timezone.now()
    by_status: dict[str, list[int]] = {}
    for execution in executions:
        pk = execution.pk
        execution.status = (
            ExecutionStatus.SUCCEEDED
            if not failed[pk]
            else ExecutionStatus.PARTIAL
            if ok[pk]
            else ExecutionStatus.FAILED
        )
        execution.task = tasks.get(pk) or execution.task
        execution.finished_at = finished
        by_status.setdefault(execution.status, []).append(pk)
    for status, pks in by_status.items():  # one UPDATE per outcome
        RuleExecution.objects.filter(pk__in=pks).update(status=status, finished_at=finished)
    _set_tasks({pk: task.pk for pk, task in tasks.items()})
    logger.info("Rule %s ran the actions of %s execution(s)", rule.pk, len(executions))
    return {e.pk: e.status for e in executions}


def _set_tasks(task_of: dict[int, int]) -> None:
    """Link executions to the tasks they created: one UPDATE … FROM (VALUES …) per 1000 on PostgreSQL."""
    items = sorted(task_of.items())
    if connection.vendor != "postgresql":
        RuleExecution.objects.bulk_update(
            [RuleExecution(pk=pk, task_id=task_id) for pk, task_id in items], ["task"], batch_size=500
        )
        return
    table = connection.ops.quote_name(RuleExecution._meta.db_table)
    with connection.cursor() as cursor:
        for lo in range(0, len(items), 1000):
            part = items[lo : lo + 1000]
            values = ", ".join(["(%s::bigint, %s::bigint)"] * len(part))
            cursor.execute(
                f"UPDATE {table} AS e SET task_id = v.task_id FROM (VALUES {values}) AS v(id, task_id) "
                "WHERE e.id = v.id",
                [x for pair in part for x in pair],
            )


def execution_run(*, execution: RuleExecution) -> str:
    """Run one execution's actions (inside the caller's transaction); each action's outcome is recorded."""
    return executions_run(rule=execution.rule, executions=[execution])[execution.pk]


def executions_run_pending(
    *, limit: int | None = None, rule_ids: list[int] | None = None, chunk: int | None = None
) -> int:
    """Phase 2: run pending executions rule by rule, a chunk per transaction, skipping rows another worker holds.

    Each chunk's actions run set-based (`executions_run`). A worker killed mid-way rolls its current chunk back
    entirely (effects, action log and status together), so the next worker redoes exactly that chunk: nothing
    twice, nothing missed.
    """
    chunk = chunk or conf.get("ACTIONS_CHUNK")
    pending = RuleExecution.objects.filter(status=ExecutionStatus.PENDING)
    if rule_ids is not None:
        pending = pending.filter(rule_id__in=rule_ids)
    pending_rules = sorted(set(pending.values_list("rule_id", flat=True).order_by().distinct()))
    count = 0
    for rule in Rule.objects.filter(pk__in=pending_rules).order_by("pk"):
        after = 0
        while limit is None or count < limit:
            size = chunk if limit is None else min(chunk, limit - count)
            batch = list(pending.filter(rule=rule, pk__gt=after).order_by("pk").values_list("pk", flat=True)[:size])
            if not batch:
                break
            after = batch[-1]  # rows held by another worker are left to it
            with transaction.atomic():
                executions = list(
                    RuleExecution.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(pk__in=batch, status=ExecutionStatus.PENDING)
                    .order_by("pk")
                )
                executions_run(rule=rule, executions=executions)
            count += len(executions)
    return count


def rules_cycle(*, now: dt.datetime | None = None, account_ids: list[int] | None = None) -> dict[str, int]:
    """One evaluation cycle of every enabled rule, then run what fired (and anything left pending)."""
    fired = 0
    rules = list(Rule.objects.filter(enabled=True).order_by("pk"))
    for rule in rules:
        fired += rule_evaluate(rule=rule, now=now, account_ids=account_ids, analyze=False)
    executions_analyze(inserted=fired)
    ran = executions_run_pending()
    return {"rules": len(rules), "fired": fired, "ran": ran}


def rule_run_preview(*, rule: Rule, now: dt.datetime | None = None) -> dict[str, int]:
    """What "Run now" would touch: accounts matching now, and of them how many would fire (not in cooldown and
    without an open task from this rule). Counted in the database, shown before the user confirms."""
    now = now or timezone.now()
    rows, _ = conditions.matching(rule.conditions, now=now)
    matching = rows.count()
    would_fire = _eligible(rule, now, rows.values("pk")).count() if matching else 0
    return {"matching": matching, "would_fire": would_fire}


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
