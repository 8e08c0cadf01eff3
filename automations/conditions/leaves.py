"""The leaf conditions, each compiled to annotations and a Q on Account: usage, health and churn risk, tickets,
surveys, payments, milestones, renewal, seats and expansion, events; and the filters on account attributes.
Health conditions read the health app's snapshots and metrics and the fields it caches on Account."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import (
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
)
from django.utils.translation import gettext as _

from accounts.models import (
    Subscription,
    SupportTicket,
    SurveyResponse,
    Tag,
    Task,
    TaskPriority,
    TaskStatus,
    UsageEvent,
)
from automations.conditions.base import OPEN_TICKET, Compiled, ConditionError, Context, as_int, as_list, as_number
from automations.models import MilestoneProgress
from health.models import AccountMetrics, FeatureFirstUse, HealthSnapshot


def _inactive_days(spec: dict, ctx: Context) -> Compiled:
    cutoff = ctx.now - dt.timedelta(days=as_int(spec, "days"))
    q = Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True, created_at__lt=cutoff)
    return Compiled(q=q, shows=[("last_seen_at", "Last seen")])


def _health_below(spec: dict, ctx: Context) -> Compiled:
    return Compiled(q=Q(health_score__lt=as_number(spec, "value")), shows=[("health_score", "Health score")])


def _health_dropped(spec: dict, ctx: Context) -> Compiled:
    points, days = as_number(spec, "points"), as_int(spec, "days")
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
    return Compiled(
        q=Q(churn_probability__gte=as_number(spec, "value")), shows=[("churn_probability", "Churn probability")]
    )


def _ticket_open_longer(spec: dict, ctx: Context) -> Compiled:
    hours = as_number(spec, "hours", default=0) + 24 * as_number(spec, "days", default=0)
    if hours <= 0:
        raise ConditionError(_("ticket_open_longer: give 'days' or 'hours'."))
    name = ctx.name("oldest_open_ticket")
    open_tickets = SupportTicket.objects.filter(status__in=OPEN_TICKET)
    old = open_tickets.filter(opened_at__lt=ctx.now - dt.timedelta(hours=hours)).values("account_id")
    oldest = Subquery(open_tickets.filter(account=OuterRef("pk")).order_by("opened_at").values("opened_at")[:1])
    return Compiled(q=Q(pk__in=old), annotations={name: oldest}, shows=[(name, "Oldest open ticket opened")])


def _tickets_in_days(spec: dict, ctx: Context) -> Compiled:
    count, days = as_int(spec, "count"), as_int(spec, "days")
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
        days, value = as_int(spec, "days", default=90), as_number(spec, "value")
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
        raise ConditionError(_("no_open_followup: kind must be nps or csat, not %(kind)r.") % {"kind": kind})
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
        q &= Q(payment_failed_at__gte=ctx.now - dt.timedelta(days=as_int(spec, "days")))
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
    days = as_int(spec, "days")
    q = Q(renewal_date__gte=ctx.today, renewal_date__lte=ctx.today + dt.timedelta(days=days))
    return Compiled(q=q, shows=[("renewal_date", "Renewal date")])


def _seat_utilisation(spec: dict, ctx: Context) -> Compiled:
    # Metrics are daily: an account's latest row of the last week, and no later row below the threshold.
    threshold = as_number(spec, "percent") / 100
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
    since = ctx.today - dt.timedelta(days=as_int(spec, "days"))
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
    since = ctx.today - dt.timedelta(days=as_int(spec, "days"))
    purchases = Subscription.objects.filter(start_date__gte=since, start_date__lte=ctx.today)
    name = ctx.name("purchased_on")
    last = Subquery(purchases.filter(account=OuterRef("pk")).order_by("-start_date").values("start_date")[:1])
    return Compiled(
        q=Q(pk__in=purchases.values("account_id")), annotations={name: last}, shows=[(name, "Purchased on")]
    )


def _event_in_days(spec: dict, ctx: Context) -> Compiled:
    event_type = spec.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise ConditionError(_("event_in_days: 'event_type' is required."))
    events = UsageEvent.objects.filter(
        event_type=event_type, occurred_at__gte=ctx.now - dt.timedelta(days=as_int(spec, "days"))
    )
    name = ctx.name("last_event")
    last = Subquery(events.filter(account=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1])
    return Compiled(
        q=Q(pk__in=events.values("account_id")), annotations={name: last}, shows=[(name, f"Last {event_type}")]
    )


def _field_in(field_name: str, label: str):
    def compile_(spec: dict, ctx: Context) -> Compiled:
        return Compiled(q=Q(**{f"{field_name}__in": as_list(spec)}), shows=[(field_name, label)])

    return compile_


def _tag(spec: dict, ctx: Context) -> Compiled:
    names = as_list(spec, "has") if "has" in spec else as_list(spec, "lacks")

    tagged = Tag.accounts.through.objects.filter(tag__name__in=names).values("account_id")
    return Compiled(q=Q(pk__in=tagged) if "has" in spec else ~Q(pk__in=tagged))


def _owner(spec: dict, ctx: Context) -> Compiled:
    who = spec.get("is")
    if who == "none":
        return Compiled(q=Q(owner__isnull=True))
    if not isinstance(who, str) or not who:
        raise ConditionError(_("owner: 'is' must be a username or 'none'."))
    return Compiled(q=Q(owner__username=who), shows=[("owner__username", "Owner")])


def _mrr_at_least(spec: dict, ctx: Context) -> Compiled:
    return Compiled(q=Q(mrr__gte=Decimal(str(as_number(spec, "value")))), shows=[("mrr", "MRR")])
