"""A condition tree evaluated over the whole grid: each leaf by its historical evaluator, groups by boolean algebra
on the matrices. Leaves with no history are read from today's values (and reported as such); a leaf type without
any evaluator cannot be backtested."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from django.utils.translation import gettext

from accounts.models import Account, Tag
from automations.backtest import history_facts as facts
from automations.backtest import history_usage as usage
from automations.backtest.grid import Grid
from automations.conditions import CONDITIONS
from automations.conditions.base import ConditionError, as_list


class CannotBacktest(ValueError):
    """The tree holds a leaf whose history is not stored: `leaf` is its type."""

    def __init__(self, leaf: str):
        self.leaf = leaf
        super().__init__(gettext("Cannot be backtested: %(leaf)s (no history is stored for it).") % {"leaf": leaf})


def _today(field_name: str):
    def evaluate(spec: dict, grid: Grid) -> np.ndarray:
        ids = set(Account.objects.filter(**{f"{field_name}__in": as_list(spec)}).values_list("pk", flat=True))
        return _rows(grid, ids)

    return evaluate


def _rows(grid: Grid, ids) -> np.ndarray:
    hit = np.isin(grid.account_ids, np.fromiter(ids, dtype=np.int64, count=len(ids)))
    return np.repeat(hit[:, None], grid.n_days, axis=1)


def _tag(spec: dict, grid: Grid) -> np.ndarray:
    names = as_list(spec, "has") if "has" in spec else as_list(spec, "lacks")
    ids = set(Tag.accounts.through.objects.filter(tag__name__in=names).values_list("account_id", flat=True))
    tagged = _rows(grid, ids)
    return tagged if "has" in spec else ~tagged


def _owner(spec: dict, grid: Grid) -> np.ndarray:
    who = spec.get("is")
    if who == "none":
        return _rows(grid, set(Account.objects.filter(owner__isnull=True).values_list("pk", flat=True)))
    if not isinstance(who, str) or not who:
        raise ConditionError(gettext("owner: 'is' must be a username or 'none'."))
    return _rows(grid, set(Account.objects.filter(owner__username=who).values_list("pk", flat=True)))


# leaf type → (evaluator, whether it reads today's value instead of history)
HISTORY: dict[str, tuple[Callable[[dict, Grid], np.ndarray], bool]] = {
    "inactive_days": (usage.inactive_days, False),
    "health_below": (usage.health_below, False),
    "health_dropped": (usage.health_dropped, False),
    "churn_probability_at_least": (usage.churn_probability, False),
    "seat_utilisation_at_least": (usage.seat_utilisation, False),
    "event_in_days": (usage.event_in_days, False),
    "ticket_open_longer": (facts.ticket_open_longer, False),
    "tickets_in_days": (facts.tickets_in_days, False),
    "nps_at_most": (facts.latest_survey("nps"), False),
    "csat_at_most": (facts.latest_survey("csat"), False),
    "no_open_followup": (facts.no_open_followup, False),
    "payment_failed": (facts.payment_failed, False),
    "milestone_missed": (facts.milestone_missed, False),
    "renewal_within": (facts.renewal_within, False),
    "no_expansion_days": (facts.no_expansion, False),
    "purchase_within": (facts.purchase_within, False),
    "status": (facts.status_in, False),
    "mrr_at_least": (facts.mrr_at_least, False),
    "segment": (_today("segment"), True),
    "stage": (_today("lifecycle_stage"), True),
    "plan": (_today("plan"), True),
    "tag": (_tag, True),
    "owner": (_owner, True),
}


def leaves(tree: dict) -> list[str]:
    """The leaf types of a tree, in order, once each."""
    if not isinstance(tree, dict):
        return []
    found: list[str] = []
    for group in ("all", "any"):
        for child in tree.get(group, []) if isinstance(tree.get(group), list) else []:
            found.extend(leaves(child))
    if "not" in tree:
        found.extend(leaves(tree["not"]))
    if "type" in tree:
        found.append(tree["type"])
    return list(dict.fromkeys(found))


def check(tree: dict) -> list[str]:
    """Raise CannotBacktest for the first leaf without history; the leaves read from today's values."""
    types = leaves(tree)
    for kind in types:
        if kind not in HISTORY or kind not in CONDITIONS:
            raise CannotBacktest(kind)
    return [kind for kind in types if HISTORY[kind][1]]


def evaluate(tree: dict, grid: Grid) -> np.ndarray:
    """The days × accounts matrix of the tree (True: the rule's conditions held at the end of that day)."""
    if not isinstance(tree, dict) or not tree:
        raise ConditionError(gettext("A condition must be an object."))
    for group, combine in (("all", np.logical_and), ("any", np.logical_or)):
        if group in tree:
            children = tree[group]
            if not isinstance(children, list) or not children:
                raise ConditionError(gettext("'%(group)s' needs a non-empty list of conditions.") % {"group": group})
            result = evaluate(children[0], grid)
            for child in children[1:]:
                result = combine(result, evaluate(child, grid))
            return result
    if "not" in tree:
        return ~evaluate(tree["not"], grid)
    kind = tree.get("type")
    if kind not in HISTORY:
        raise CannotBacktest(str(kind))
    return HISTORY[kind][0](tree, grid)
