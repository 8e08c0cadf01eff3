"""Rule conditions compiled to SQL: one annotated, filtered Account queryset per rule (set-based, no per-account loop).

A condition tree is a leaf ({"type": "health_below", "value": 70}) or a group ({"all": [...]}, {"any": [...]},
{"not": {...}}). Each leaf compiles to annotations (the values shown as "why did this fire?") and a Q.
Health conditions read the health app's snapshots and metrics (AccountMetrics, HealthSnapshot, FeatureFirstUse)
and the health fields it caches on Account.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import JSONObject
from django.utils import timezone

from accounts.models import (
    Account,
    Subscription,
    SupportTicket,
    SurveyResponse,
    Tag,
    Task,
    TaskPriority,
    TaskStatus,
    UsageEvent,
)
from automations.models import MilestoneProgress
from health.models import AccountMetrics, FeatureFirstUse, HealthSnapshot

OPEN_TICKET = ("open", "pending")


class ConditionError(ValueError):
    """The condition tree is not valid (unknown type, missing or wrong parameter)."""


@dataclass
class Compiled:
    q: Q = field(default_factory=Q)
    annotations: dict[str, Any] = field(default_factory=dict)
    # (value key in .values(), label) pairs shown as the matched values
    shows: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Context:
    now: dt.datetime
    counter: int = 0

    @property
    def today(self) -> dt.date:
        return timezone.localdate(self.now)

    def name(self, suffix: str) -> str:
        self.counter += 1
        return f"c{self.counter}_{suffix}"


def _num(spec: dict, key: str, *, default: float | None = None) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConditionError(f"{spec.get('type')}: '{key}' must be a number.")
    return value


def _int(spec: dict, key: str, *, default: int | None = None) -> int:
    return int(_num(spec, key, default=default))


def _list(spec: dict, key: str = "in") -> list[str]:
    value = spec.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConditionError(f"{spec.get('type')}: '{key}' must be a non-empty list of names.")
    return value


# --- Leaf conditions -------------------------------------------------------------------------------------------------


def _inactive_days(spec: dict, ctx: Context) -> Compiled:
    cutoff = ctx.now - dt.timedelta(days=_int(spec, "days"))
    q = Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True, created_at__lt=cutoff)
    return Compiled(q=q, shows=[("last_seen_at", "Last seen")])


def _health_below(spec: dict, ctx: Context) -> Compiled:
    return Compiled(q=Q(health_score__lt=_num(spec, "value")), shows=[("health_score", "Health score")])


def _health_dropped(spec: dict, ctx: Context) -> Compiled:
    points, days = _num(spec, "points"), _int(spec, "days")
    then = ctx.today - dt.timedelta(days=days)
    # Daily snapshots: the one of `then` (or up to 3 days before, for gaps) against the cached score now.
    window = HealthSnapshot.objects.filter(day__lte=then, day__gte=then - dt.timedelta(days=3), score__isnull=False)
    # Correlated, not `pk IN (snapshots joined to their accounts)`: one semi-join, no second scan of the accounts.
    dropped = Exists(window.filter(account=OuterRef("pk"), score__gte=OuterRef("health_score") + points))
    past_name = ctx.name("past_health")
    past = Subquery(
        window.filter(account=OuterRef("pk")).order_by("-day").values("score")[:1], output_field=IntegerField()
    )
    drop_name = ctx.name("health_drop")
    return Compiled(
        q=Q(dropped),
        annotations={
            past_name: past,
            drop_name: ExpressionWrapper(F(past_name) - F("health_score"), output_field=IntegerField()),
        },
        shows=[("health_score", "Health score"), (past_name, f"Health {days} days ago"), (drop_name, "Drop")],
    )


def _churn_probability(spec: dict, ctx: Context) -> Compiled:
    return Compiled(q=Q(churn_probability__gte=_num(spec, "value")), shows=[("churn_probability", "Churn probability")])


def _ticket_open_longer(spec: dict, ctx: Context) -> Compiled:
    hours = _num(spec, "hours", default=0) + 24 * _num(spec, "days", default=0)
    if hours <= 0:
        raise ConditionError("ticket_open_longer: give 'days' or 'hours'.")
    name = ctx.name("oldest_open_ticket")
    open_tickets = SupportTicket.objects.filter(status__in=OPEN_TICKET)
    old = open_tickets.filter(opened_at__lt=ctx.now - dt.timedelta(hours=hours)).values("account_id")
    oldest = Subquery(open_tickets.filter(account=OuterRef("pk")).order_by("opened_at").values("opened_at")[:1])
    return Compiled(q=Q(pk__in=old), annotations={name: oldest}, shows=[(name, "Oldest open ticket opened")])


def _tickets_in_days(spec: dict, ctx: Context) -> Compiled:
    count, days = _int(spec, "count"), _int(spec, "days")
    name = ctx.name("tickets")
    recent = SupportTicket.objects.filter(opened_at__gte=ctx.now - dt.timedelta(days=days)).order_by()
    busy = recent.values("account_id").annotate(n=Count("id")).filter(n__gte=count).values("account_id")
    n = Subquery(
        recent.filter(account=OuterRef("pk")).values("account").annotate(n=Count("id")).values("n")[:1],
        output_field=IntegerField(),
    )
    return Compiled(q=Q(pk__in=busy), annotations={name: n}, shows=[(name, f"Tickets in {days} days")])


def _latest_survey(kind: str, label: str):
    def compile_(spec: dict, ctx: Context) -> Compiled:
        days, value = _int(spec, "days", default=90), _num(spec, "value")
        name = ctx.name(f"latest_{kind}")
        answers = SurveyResponse.objects.filter(kind=kind, responded_at__gte=ctx.now - dt.timedelta(days=days))
        # The latest answer is ≤ value: a low answer with no later answer above the value.
        later_higher = answers.filter(
            account=OuterRef("account"), responded_at__gt=OuterRef("responded_at"), score__gt=value
        )
        low = answers.filter(score__lte=value).exclude(Exists(later_higher)).values("account_id")
        latest = Subquery(
            answers.filter(account=OuterRef("pk")).order_by("-responded_at", "-id").values("score")[:1],
            output_field=IntegerField(),
        )
        return Compiled(q=Q(pk__in=low), annotations={name: latest}, shows=[(name, label)])

    return compile_


def _no_open_followup(spec: dict, ctx: Context) -> Compiled:
    """No open high-priority task on the account created since its latest answer of that kind: nobody (e.g. the
    win-back survey routing, which gives every detractor answer a high-priority call-back task) follows it up yet."""
    kind = spec.get("kind", "nps")
    if kind not in ("nps", "csat"):
        raise ConditionError(f"no_open_followup: kind must be nps or csat, not {kind!r}.")
    answered = SurveyResponse.objects.filter(account=OuterRef("account"), kind=kind).order_by("-responded_at")
    followup = Task.objects.filter(
        account=OuterRef("pk"),
        status=TaskStatus.OPEN,
        priority__in=[TaskPriority.HIGH, TaskPriority.URGENT],
        created_at__gte=Subquery(answered.values("responded_at")[:1]),
    )
    return Compiled(q=~Exists(followup))


def _payment_failed(spec: dict, ctx: Context) -> Compiled:
    q = Q(payment_failed_at__isnull=False)
    if "days" in spec:
        q &= Q(payment_failed_at__gte=ctx.now - dt.timedelta(days=_int(spec, "days")))
    return Compiled(q=q, shows=[("payment_failed_at", "Payment failed at")])


def _milestone_missed(spec: dict, ctx: Context) -> Compiled:
    missed = MilestoneProgress.objects.filter(missed_at__isnull=False, reached_at__isnull=True)
    if spec.get("milestone"):
        missed = missed.filter(milestone__key=spec["milestone"])
    name = ctx.name("missed_milestone")
    first = Subquery(missed.filter(account=OuterRef("pk")).order_by("missed_at").values("milestone__name")[:1])
    return Compiled(
        q=Q(pk__in=missed.values("account_id")), annotations={name: first}, shows=[(name, "Missed milestone")]
    )


def _renewal_within(spec: dict, ctx: Context) -> Compiled:
    days = _int(spec, "days")
    q = Q(renewal_date__gte=ctx.today, renewal_date__lte=ctx.today + dt.timedelta(days=days))
    return Compiled(q=q, shows=[("renewal_date", "Renewal date")])


def _seat_utilisation(spec: dict, ctx: Context) -> Compiled:
    # Metrics are daily: an account's latest row of the last week, and no later row below the threshold.
    threshold = _num(spec, "percent") / 100
    recent = AccountMetrics.objects.filter(day__gte=ctx.today - dt.timedelta(days=7), seat_depth__isnull=False)
    newer = recent.filter(account=OuterRef("account"), day__gt=OuterRef("day"))
    full = recent.filter(seat_depth__gte=threshold).exclude(Exists(newer)).values("account_id")
    name = ctx.name("seat_utilisation")
    depth = Subquery(
        recent.filter(account=OuterRef("pk")).order_by("-day").values("seat_depth")[:1], output_field=FloatField()
    )
    return Compiled(
        q=Q(pk__in=full),
        annotations={name: depth},
        shows=[(name, "Seat utilisation (active users ÷ seats)"), ("seats", "Seats")],
    )


def _no_expansion(spec: dict, ctx: Context) -> Compiled:
    """Silent churn: an active customer with no new subscription and no newly adopted feature for N days."""
    since = ctx.today - dt.timedelta(days=_int(spec, "days"))
    name = ctx.name("last_expansion")
    last = Subquery(
        Subscription.objects.filter(account=OuterRef("pk")).order_by("-start_date").values("start_date")[:1]
    )
    q = (
        ~Q(status="churned")
        & ~Q(pk__in=Subscription.objects.filter(start_date__gt=since).values("account_id"))
        & ~Q(pk__in=FeatureFirstUse.objects.filter(first_day__gt=since).values("account_id"))
    )
    return Compiled(q=q, annotations={name: last}, shows=[(name, "Last subscription started")])


def _purchase_within(spec: dict, ctx: Context) -> Compiled:
    since = ctx.today - dt.timedelta(days=_int(spec, "days"))
    purchases = Subscription.objects.filter(start_date__gte=since, start_date__lte=ctx.today)
    name = ctx.name("purchased_on")
    last = Subquery(purchases.filter(account=OuterRef("pk")).order_by("-start_date").values("start_date")[:1])
    return Compiled(
        q=Q(pk__in=purchases.values("account_id")), annotations={name: last}, shows=[(name, "Purchased on")]
    )


def _event_in_days(spec: dict, ctx: Context) -> Compiled:
    event_type = spec.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise ConditionError("event_in_days: 'event_type' is required.")
    events = UsageEvent.objects.filter(
        event_type=event_type, occurred_at__gte=ctx.now - dt.timedelta(days=_int(spec, "days"))
    )
    name = ctx.name("last_event")
    last = Subquery(events.filter(account=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1])
    return Compiled(
        q=Q(pk__in=events.values("account_id")), annotations={name: last}, shows=[(name, f"Last {event_type}")]
    )


# --- Filters ---------------------------------------------------------------------------------------------------------


def _field_in(field_name: str, label: str):
    def compile_(spec: dict, ctx: Context) -> Compiled:
        return Compiled(q=Q(**{f"{field_name}__in": _list(spec)}), shows=[(field_name, label)])

    return compile_


def _tag(spec: dict, ctx: Context) -> Compiled:
    names = _list(spec, "has") if "has" in spec else _list(spec, "lacks")

    tagged = Tag.accounts.through.objects.filter(tag__name__in=names).values("account_id")
    return Compiled(q=Q(pk__in=tagged) if "has" in spec else ~Q(pk__in=tagged))


def _owner(spec: dict, ctx: Context) -> Compiled:
    who = spec.get("is")
    if who == "none":
        return Compiled(q=Q(owner__isnull=True))
    if not isinstance(who, str) or not who:
        raise ConditionError("owner: 'is' must be a username or 'none'.")
    return Compiled(q=Q(owner__username=who), shows=[("owner__username", "Owner")])


def _mrr_at_least(spec: dict, ctx: Context) -> Compiled:
    return Compiled(q=Q(mrr__gte=Decimal(str(_num(spec, "value")))), shows=[("mrr", "MRR")])


CONDITIONS: dict[str, tuple[str, Any]] = {
    "inactive_days": ("No activity for N days (days)", _inactive_days),
    "health_below": ("Health score below X (value)", _health_below),
    "health_dropped": ("Health dropped ≥ Y points in Z days (points, days)", _health_dropped),
    "churn_probability_at_least": ("Churn probability ≥ p (value, 0–1)", _churn_probability),
    "ticket_open_longer": ("A ticket open longer than N days / hours (days or hours)", _ticket_open_longer),
    "tickets_in_days": ("≥ N tickets in M days (count, days)", _tickets_in_days),
    "nps_at_most": ("Latest NPS ≤ X (value, days=90)", _latest_survey("nps", "Latest NPS")),
    "csat_at_most": ("Latest CSAT ≤ X — dissatisfied (value, days=90)", _latest_survey("csat", "Latest CSAT")),
    "no_open_followup": (
        "No open high-priority task since the latest survey answer (kind: nps | csat)",
        _no_open_followup,
    ),
    "payment_failed": ("Payment failed (optional days)", _payment_failed),
    "milestone_missed": ("Onboarding milestone missed (optional milestone key)", _milestone_missed),
    "renewal_within": ("Renewal within N days (days)", _renewal_within),
    "seat_utilisation_at_least": ("Seat utilisation ≥ X% — upsell (percent)", _seat_utilisation),
    "no_expansion_days": ("No expansion or adoption for N days — silent churn (days)", _no_expansion),
    "purchase_within": ("A purchase in the last N days (days)", _purchase_within),
    "event_in_days": ("Event happened in the last N days (event_type, days)", _event_in_days),
    "segment": ("Segment is one of (in)", _field_in("segment", "Segment")),
    "status": ("Status is one of (in)", _field_in("status", "Status")),
    "stage": ("Lifecycle stage is one of (in)", _field_in("lifecycle_stage", "Stage")),
    "plan": ("Plan is one of (in)", _field_in("plan", "Plan")),
    "tag": ("Has tag (has) / lacks tag (lacks)", _tag),
    "owner": ("Owner is (is: username or none)", _owner),
    "mrr_at_least": ("MRR ≥ X (value)", _mrr_at_least),
}


def compile_tree(tree: dict, ctx: Context) -> Compiled:
    if not isinstance(tree, dict) or not tree:
        raise ConditionError("A condition must be an object.")
    for group, join in (("all", "and"), ("any", "or")):
        if group in tree:
            children = tree[group]
            if not isinstance(children, list) or not children:
                raise ConditionError(f"'{group}' needs a non-empty list of conditions.")
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
    if kind not in CONDITIONS:
        raise ConditionError(f"Unknown condition type {kind!r}.")
    return CONDITIONS[kind][1](tree, ctx)


def validate(tree: dict) -> None:
    """Raise ConditionError when the tree cannot compile."""
    compile_tree(tree, Context(now=timezone.now()))


def matching_queryset(
    tree: dict, *, now: dt.datetime | None = None, queryset: QuerySet[Account] | None = None
) -> tuple[QuerySet[Account], list[tuple[str, str]]]:
    """The matching accounts (annotated with the values to show) and the (value key, label) pairs."""
    ctx = Context(now=now or timezone.now())
    compiled = compile_tree(tree, ctx)
    qs = (queryset if queryset is not None else Account.objects.all()).annotate(**compiled.annotations)
    return qs.filter(compiled.q), list(dict.fromkeys(compiled.shows))


def matching(
    tree: dict, *, now: dt.datetime | None = None, queryset: QuerySet[Account] | None = None
) -> tuple[QuerySet, list[tuple[str, str]]]:
    """Accounts matching the tree, as `.values()` rows of id, name and the matched values; and the value labels."""
    qs, shows = matching_queryset(tree, now=now, queryset=queryset)
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
