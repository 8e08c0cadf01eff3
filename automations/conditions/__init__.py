"""Rule conditions compiled to SQL: one annotated, filtered Account queryset per rule (set-based, no per-account loop).

A condition tree is a leaf ({"type": "health_below", "value": 70}) or a group ({"all": [...]}, {"any": [...]},
{"not": {...}}). Each leaf compiles to annotations (the values shown as "why did this fire?") and a Q.
Health conditions read the health app's snapshots and metrics (AccountMetrics, HealthSnapshot, FeatureFirstUse)
and the health fields it caches on Account."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import (
    F,
    JSONField,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    Account,
)
from automations.conditions.base import OPEN_TICKET, Compiled, ConditionError, Context, matched_label
from automations.conditions.enrolment import _task_outcome, email_clicked, email_opened
from automations.conditions.leaves import (
    _churn_probability,
    _event_in_days,
    _field_in,
    _health_below,
    _health_dropped,
    _inactive_days,
    _latest_survey,
    _milestone_missed,
    _mrr_at_least,
    _no_expansion,
    _no_open_followup,
    _owner,
    _payment_failed,
    _purchase_within,
    _renewal_within,
    _seat_utilisation,
    _tag,
    _ticket_open_longer,
    _tickets_in_days,
)

__all__ = [
    "CONDITIONS",
    "PLAYBOOK_CONDITIONS",
    "OPEN_TICKET",
    "Compiled",
    "ConditionError",
    "Context",
    "compile_tree",
    "matched_json",
    "matched_label",
    "matching",
    "matching_queryset",
    "plain_values",
    "validate",
]


CONDITIONS: dict[str, tuple[str, Any]] = {
    "inactive_days": (_("No activity for N days (days)"), _inactive_days),
    "health_below": (_("Health score below X (value)"), _health_below),
    "health_dropped": (_("Health dropped ≥ Y points in Z days (points, days)"), _health_dropped),
    "churn_probability_at_least": (_("Churn probability ≥ p (value, 0–1)"), _churn_probability),
    "ticket_open_longer": (_("A ticket open longer than N days / hours (days or hours)"), _ticket_open_longer),
    "tickets_in_days": (_("≥ N tickets in M days (count, days)"), _tickets_in_days),
    "nps_at_most": (_("Latest NPS ≤ X (value, days=90)"), _latest_survey("nps", "Latest NPS")),
    "csat_at_most": (_("Latest CSAT ≤ X — dissatisfied (value, days=90)"), _latest_survey("csat", "Latest CSAT")),
    "no_open_followup": (
        _("No open high-priority task since the latest survey answer (kind: nps | csat)"),
        _no_open_followup,
    ),
    "payment_failed": (_("Payment failed (optional days)"), _payment_failed),
    "milestone_missed": (_("Onboarding milestone missed (optional milestone key)"), _milestone_missed),
    "renewal_within": (_("Renewal within N days (days)"), _renewal_within),
    "seat_utilisation_at_least": (_("Seat utilisation ≥ X% — upsell (percent)"), _seat_utilisation),
    "no_expansion_days": (_("No expansion or adoption for N days — silent churn (days)"), _no_expansion),
    "purchase_within": (_("A purchase in the last N days (days)"), _purchase_within),
    "event_in_days": (_("Event happened in the last N days (event_type, days)"), _event_in_days),
    "segment": (_("Segment is one of (in)"), _field_in("segment", "Segment")),
    "status": (_("Status is one of (in)"), _field_in("status", "Status")),
    "stage": (_("Lifecycle stage is one of (in)"), _field_in("lifecycle_stage", "Stage")),
    "plan": (_("Plan is one of (in)"), _field_in("plan", "Plan")),
    "tag": (_("Has tag (has) / lacks tag (lacks)"), _tag),
    "owner": (_("Owner is (is: username or none)"), _owner),
    "mrr_at_least": (_("MRR ≥ X (value)"), _mrr_at_least),
    "health_band": (_("Health band is one of (in)"), _field_in("health_band", "Health band")),
}

# The enrolment's own conditions: only in a playbook's branches and waits (see `conditions.enrolment`).
PLAYBOOK_CONDITIONS: dict[str, tuple[str, Any]] = {
    "email_opened": (_("An email of the enrolment was opened (optional step)"), email_opened),
    "email_clicked": (_("A link in an email of the enrolment was clicked (optional step)"), email_clicked),
    "task_outcome": (
        _("The enrolment's task is completed / not completed / overdue (outcome, optional step)"),
        _task_outcome,
    ),
}


def compile_tree(tree: dict, ctx: Context) -> Compiled:
    if not isinstance(tree, dict) or not tree:
        raise ConditionError(gettext("A condition must be an object."))
    for group, join in (("all", "and"), ("any", "or")):
        if group in tree:
            children = tree[group]
            if not isinstance(children, list) or not children:
                raise ConditionError(gettext("'%(group)s' needs a non-empty list of conditions.") % {"group": group})
            out = Compiled(q=Q() if join == "and" else Q(pk__in=[]))
            first = True
            for child in children:
                c = compile_tree(child, ctx)
                out.annotations.update(c.annotations)
                out.shows.extend(s for s in c.shows if s not in out.shows)
                if join == "and":
                    out.q &= c.q
                else:
                    out.q = c.q if first else out.q | c.q
                first = False
            return out
    if "not" in tree:
        c = compile_tree(tree["not"], ctx)
        return Compiled(q=~c.q, annotations=c.annotations, shows=c.shows)
    kind = tree.get("type")
    if kind in PLAYBOOK_CONDITIONS:
        return PLAYBOOK_CONDITIONS[kind][1](tree, ctx)
    if kind not in CONDITIONS:
        raise ConditionError(gettext("Unknown condition type %(kind)r.") % {"kind": kind})
    return CONDITIONS[kind][1](tree, ctx)


def validate(tree: dict, *, playbook: bool = False) -> None:
    """Raise ConditionError when the tree cannot compile (`playbook`: in a playbook, with the enrolment's own
    conditions)."""
    compile_tree(tree, Context(now=timezone.now(), in_playbook=playbook))


def matching_queryset(
    tree: dict,
    *,
    now: dt.datetime | None = None,
    queryset: QuerySet[Account] | None = None,
    playbook_id: int | None = None,
) -> tuple[QuerySet[Account], list[tuple[str, str]]]:
    """The matching accounts (annotated with the values to show) and the (value key, label) pairs. With
    `playbook_id`, the enrolment's own conditions read the accounts' active enrolments in that playbook."""
    ctx = Context(now=now or timezone.now(), in_playbook=playbook_id is not None, playbook_id=playbook_id)
    compiled = compile_tree(tree, ctx)
    qs = (queryset if queryset is not None else Account.objects.all()).annotate(**compiled.annotations)
    return qs.filter(compiled.q), list(dict.fromkeys(compiled.shows))


def matching(
    tree: dict,
    *,
    now: dt.datetime | None = None,
    queryset: QuerySet[Account] | None = None,
    playbook_id: int | None = None,
) -> tuple[QuerySet, list[tuple[str, str]]]:
    """Accounts matching the tree, as `.values()` rows of id, name and the matched values; and the value labels."""
    qs, shows = matching_queryset(tree, now=now, queryset=queryset, playbook_id=playbook_id)
    keys = list(dict.fromkeys(k for k, _ in shows))
    return qs.order_by("pk").values("pk", "name", "owner_id", *keys), shows


def matched_json(shows: list[tuple[str, str]]):
    """A SQL expression building the {label: value} object of the matched values (for INSERT … SELECT)."""
    if not shows:
        return Value({}, output_field=JSONField())
    return JSONObject(**{label: F(key) for key, label in shows})


def plain_values(row: dict, shows: list[tuple[str, str]]) -> dict[str, Any]:
    """The matched values of one row as JSON-ready {label: value}."""
    out: dict[str, Any] = {}
    for key, label in shows:
        value = row.get(key)
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, float):
            value = round(value, 4)
        out[label] = value
    return out
