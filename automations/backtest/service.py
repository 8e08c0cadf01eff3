"""`rule_backtest`: replay a saved rule, or a draft's conditions, actions and cooldown, over the last N months."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account
from automations import actions as rule_actions
from automations import conditions
from automations.backtest import evaluate as tree_eval
from automations.backtest import history_facts, replay
from automations.backtest.grid import Grid, numbers
from automations.models import Rule
from churnapp.months import add_months

MIN_MONTHS, MAX_MONTHS, DEFAULT_MONTHS = 1, 24, 12
FIRST_FIRED = 20


def _OUT_OF_RANGE() -> str:  # noqa: N802 - a message, read in the active language
    return gettext("A number in the conditions is out of range.")


class BacktestInvalid(ValueError):
    """The request cannot be backtested: `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items()))


def _definition(rule, tree, actions_list, cooldown_days) -> tuple[dict, list, int]:
    errors: dict[str, list[str]] = {}
    if rule is not None:
        if not isinstance(rule, Rule):
            found = Rule.objects.filter(key=str(rule)).first()
            if found is None:
                raise BacktestInvalid({"rule": [gettext("No rule has the key %(key)s.") % {"key": rule}]})
            rule = found
        tree = rule.conditions if tree is None else tree
        actions_list = rule.actions if actions_list is None else actions_list
        cooldown_days = rule.cooldown_days if cooldown_days is None else cooldown_days
    try:
        conditions.validate(tree)
    except (ValueError, OverflowError) as exc:  # a ConditionError, or a number of days beyond the calendar
        errors["conditions"] = [str(exc) if isinstance(exc, conditions.ConditionError) else _OUT_OF_RANGE()]
    actions_list = [] if actions_list is None else actions_list
    try:
        if actions_list:
            rule_actions.validate(actions_list)
        elif not isinstance(actions_list, list):
            raise rule_actions.ActionError(gettext("Actions must be a list."))
    except rule_actions.ActionError as exc:
        errors["actions"] = [str(exc)]
    cooldown_days = 7 if cooldown_days is None else cooldown_days
    if isinstance(cooldown_days, bool) or not isinstance(cooldown_days, int) or not 0 <= cooldown_days <= 3650:
        errors["cooldown_days"] = [gettext("The cooldown is a whole number of days from 0 to 3650.")]
    if errors:
        raise BacktestInvalid(errors)
    return tree, actions_list, cooldown_days


def _grid(months: int, today: dt.date) -> Grid:
    start, end = add_months(today, -months), today - dt.timedelta(days=1)
    rows = Account.objects.filter(created_at__lt=timezone.make_aware(dt.datetime.combine(today, dt.time.min)))
    ids, created = zip(*rows.order_by("pk").values_list("pk", "created_at"), strict=True) if rows.exists() else ((), ())
    return Grid(start=start, end=end, account_ids=np.asarray(ids, dtype=np.int64), created=numbers(created, start))


def rule_backtest(
    *,
    rule: Rule | str | None = None,
    tree: dict | None = None,
    actions_list: list | None = None,
    cooldown_days: int | None = None,
    months: int = DEFAULT_MONTHS,
    today: dt.date | None = None,
) -> dict:
    """How the rule would have done over the last `months` months, evaluated at the end of each day with its
    cooldown: fires, precision / recall / lift against churn within 90 days (replay.scores), tasks and emails per
    week, the first fired accounts, and which leaves were read from today's values. Raises BacktestInvalid (per
    field) or evaluate.CannotBacktest (a leaf without history)."""
    if isinstance(months, bool) or not isinstance(months, int) or not MIN_MONTHS <= months <= MAX_MONTHS:
        raise BacktestInvalid({"months": [gettext("Months must be a whole number from %(min)s to %(max)s.")
                                          % {"min": MIN_MONTHS, "max": MAX_MONTHS}]})  # fmt: skip
    tree, actions_list, cooldown_days = _definition(rule, tree, actions_list, cooldown_days)
    today_leaves = tree_eval.check(tree)
    started = time.perf_counter()
    grid = _grid(months, today or timezone.localdate())
    try:
        matches = tree_eval.evaluate(tree, grid) & grid.existing()
    except OverflowError as exc:
        raise BacktestInvalid({"conditions": [_OUT_OF_RANGE()]}) from exc
    fires = replay.replay_cooldown(matches, cooldown_days)
    churns = replay.churn_days(grid, history_facts.subscriptions(grid))
    status = grid.memo("status", lambda: history_facts.status_codes(grid))
    alive = (status != history_facts.STATUSES.index("churned")) & grid.existing()
    figures = replay.scores(grid, fires, churns, alive=alive)
    weekly = replay.weekly_load(grid, fires, actions_list)
    weeks = max(len(weekly), 1)
    return {
        "months": months,
        "start": grid.start,
        "end": grid.end,
        "cooldown_days": cooldown_days,
        **{key: value for key, value in figures.items() if not key.endswith("_rows")},
        "tasks_per_week": round(sum(w["tasks"] for w in weekly) / weeks, 2),
        "emails_per_week": round(sum(w["emails"] for w in weekly) / weeks, 2),
        "weekly": weekly,
        "first_fired": _first_fired(grid, fires, churns, figures["hit_rows"]),
        "today_leaves": today_leaves,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _first_fired(grid: Grid, fires: np.ndarray, churns, hits: np.ndarray) -> list[dict]:
    fired = np.flatnonzero(fires.any(axis=1))
    first_day = fires[fired].argmax(axis=1)
    order = np.lexsort((grid.account_ids[fired], first_day))[:FIRST_FIRED]
    rows, days = fired[order], first_day[order]
    ids = [int(grid.account_ids[row]) for row in rows]
    names = dict(Account.objects.filter(pk__in=ids).values_list("pk", "name"))
    churn_at = churns[churns["account_id"].isin(ids) & (churns["at"] < grid.n_days)]
    last_churn = churn_at.groupby("account_id")["at"].max().to_dict()
    return [
        {
            "account_id": pk,
            "name": names.get(pk, ""),
            "first_fired": grid.day(day),
            "fires": int(fires[row].sum()),
            "churned_within_90_days": bool(hits[row]),
            "churned_on": grid.day(last_churn[pk]) if pk in last_churn else None,
        }
        for pk, row, day in zip(ids, rows, days, strict=True)
    ]
