"""Reads behind the lifecycle KPIs: purchases, account lifetimes, band movement, engagement frequency, onboarding
funnels and win-back results.

Set-based, a few aggregate queries per period. Health, automations and win-back state is read through those apps'
selectors (precomputed by their workers: snapshots, metrics, milestone progress, churn records, reactivations);
purchases and lifetimes are grouped from the billing events and subscriptions tables.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db import connections
from django.db.models import Avg, Count, Max, Min, Q, QuerySet, Sum

from accounts.models import Account, BillingEvent, BillingEventKind, Subscription
from automations import selectors as automations
from dashboards.kpis.periods import instant
from dashboards.params import KpiFilters
from dashboards.selectors import AUTO, kpi_facts, latest_run, shared_figure, use_facts
from dashboards.selectors.live import account_scope
from health import selectors as health
from winback.selectors import results as winback

# Engagement buckets: days with a meaningful event in the 30 days up to the period's last metrics day.
ACTIVE_DAY_BUCKETS = ((0, 0), (1, 3), (4, 7), (8, 14), (15, 21), (22, 30))


# --- Purchases ----------------------------------------------------------------------------------------------------


def purchases(*, start: dt.date, end: dt.date, scope: QuerySet | None) -> QuerySet:
    """Paid invoices in [start, end) (00:00 UTC): billing events `payment_succeeded` with an amount above zero."""
    events = BillingEvent.objects.filter(
        kind=BillingEventKind.PAYMENT_SUCCEEDED, amount__gt=0, occurred_at__gte=instant(start),
        occurred_at__lt=instant(end),
    )  # fmt: skip
    return events if scope is None else events.filter(account__in=scope)


def purchases_per_account(*, start: dt.date, end: dt.date, scope: QuerySet | None) -> QuerySet:
    """Per account with a paid invoice in the period: `purchases` (count) and `revenue` (sum of amounts)."""
    return (
        purchases(start=start, end=end, scope=scope)
        .values("account_id")
        .annotate(purchases=Count("id"), revenue=Sum("amount"))
        .order_by()
    )


@shared_figure
def purchase_sums(*, periods, filters: KpiFilters) -> dict[tuple[dt.date, dt.date], dict[str, int]]:
    """Per period: paid invoices (n_purchases), their total in cents (revenue), customers with one or more
    (n_customers) and with more than one (n_repeat). One query per period, summed in the database."""
    scope = account_scope(filters)
    result = {}
    for start, end in periods:
        per_account = purchases_per_account(start=start, end=end, scope=scope)
        sql, params = per_account.query.sql_with_params()
        with connections[per_account.db].cursor() as cursor:  # the replica when the request reads from it
            cursor.execute(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN per.purchases > 1 THEN 1 ELSE 0 END), 0), "
                f"COALESCE(SUM(per.purchases), 0), COALESCE(SUM(per.revenue), 0) FROM ({sql}) per",
                params,
            )
            n_customers, n_repeat, n_purchases, revenue = cursor.fetchone()
        result[(start, end)] = {"n_customers": int(n_customers), "n_repeat": int(n_repeat),
                                "n_purchases": int(n_purchases), "revenue": round(float(revenue) * 100)}  # fmt: skip
    return result


# --- Lifetimes (Kaplan–Meier) -------------------------------------------------------------------------------------


def account_lifetimes(*, start: dt.date, end: dt.date, filters: KpiFilters) -> pd.DataFrame:
    """Accounts whose first subscription started in [start, end), observed at `end`: one grouped query.

    Columns account_id, first_start, duration (days), event. An account not active at `end` (no subscription with
    start ≤ end < end_date) churned when its last subscription started by then ended (event, duration = that end −
    first start); one still active at `end` is censored there (duration = end − first start).
    """
    subs = Subscription.objects.filter(start_date__lte=end)
    scope = account_scope(filters)
    if scope is not None:
        subs = subs.filter(account__in=scope)
    rows = (
        subs.values("account_id")
        .annotate(first=Min("start_date"), last=Max("end_date"), n_open=Count("id", filter=Q(end_date__isnull=True)))
        .filter(first__gte=start, first__lt=end)
        .order_by()
        .values_list("account_id", "first", "last", "n_open")
    )
    frame = pd.DataFrame(list(rows), columns=["account_id", "first_start", "last_end", "n_open"])
    if frame.empty:
        return pd.DataFrame(columns=["account_id", "first_start", "duration", "event"])
    first = pd.to_datetime(frame["first_start"])
    last = pd.to_datetime(frame["last_end"])
    active_at_end = (frame["n_open"] > 0) | (last > pd.Timestamp(end))
    stop = last.where(~active_at_end, pd.Timestamp(end))
    return pd.DataFrame(
        {
            "account_id": frame["account_id"],
            "first_start": frame["first_start"],
            "duration": (stop - first).dt.days.astype(int),
            "event": (~active_at_end).to_numpy(),
        }
    )


def lifetime_counts(*, start: dt.date, end: dt.date, filters: KpiFilters, source: str = AUTO) -> pd.DataFrame:
    """The lifetimes of `account_lifetimes` counted per (duration, event): columns duration, event, n. From the
    facts when the period ends at the latest run's last month start (`kpi_facts.covers_run_end`)."""
    if use_facts(source, kpi_facts.covers_run_end(latest_run(), start, end, filters)):
        return kpi_facts.lifetime_counts(start, end, filters)
    lifetimes = account_lifetimes(start=start, end=end, filters=filters)
    counts = lifetimes.groupby(["duration", "event"], as_index=False).size()
    return counts.rename(columns={"size": "n"})[["duration", "event", "n"]]


# --- Health band movement and engagement --------------------------------------------------------------------------


def band_movement(*, start: dt.date, end: dt.date, filters: KpiFilters, source: str = AUTO) -> dict:
    """Bands on the first and the last snapshot day in [start, end], and the accounts per (from, to) pair.

    From the facts when the period ends at the latest run's last month start and the run found a movement.
    """
    if use_facts(source, kpi_facts.covers_run_end(latest_run(), start, end, filters)):
        stored = kpi_facts.band_movement(start, filters)
        if stored is not None:
            return stored
    first, last = health.snapshot_day_bounds(start=start, end=end)
    if first is None or first == last:
        return {"from_day": first, "to_day": last, "transitions": []}
    rows = health.band_transitions(start_day=first, end_day=last, accounts=account_scope(filters))
    return {"from_day": first, "to_day": last, "transitions": rows}


def band_movement_accounts(*, start: dt.date, end: dt.date, filters: KpiFilters, from_band: str, to_band: str):
    first, last = health.snapshot_day_bounds(start=start, end=end)
    if first is None or first == last:
        return []
    return list(
        health.band_transition_accounts(
            start_day=first, end_day=last, from_band=from_band, to_band=to_band, accounts=account_scope(filters)
        )
    )


def engagement_day(*, start: dt.date, end: dt.date) -> dt.date | None:
    """The last day of [start, end) with stored metrics (their 30-day window ends there)."""
    return health.metrics_day_on_or_before(day=end - dt.timedelta(days=1), since=start)


def engagement_counts(*, start: dt.date, end: dt.date, filters: KpiFilters, source: str = AUTO) -> dict:
    """Accounts per active-days bucket on the period's last metrics day, and the average: one aggregate (a few
    fact rows when the facts cover the period and the run found metrics before its end)."""
    if use_facts(source, kpi_facts.covers_periods(latest_run(), [(start, end)], filters)):
        stored = kpi_facts.engagement_counts(start, end, filters, ACTIVE_DAY_BUCKETS)
        if stored is not None:
            return stored
    day = engagement_day(start=start, end=end)
    if day is None:
        return {"day": None, "counts": [0] * len(ACTIVE_DAY_BUCKETS), "average": None}
    aggregates = {
        f"b{i}": Count("id", filter=Q(active_days_30__gte=low, active_days_30__lte=high))
        for i, (low, high) in enumerate(ACTIVE_DAY_BUCKETS)
    }
    row = health.active_days_on(day=day, accounts=account_scope(filters)).aggregate(
        average=Avg("active_days_30"), **aggregates
    )
    return {"day": day, "counts": [row[f"b{i}"] for i in range(len(ACTIVE_DAY_BUCKETS))], "average": row["average"]}


def engagement_accounts(*, start: dt.date, end: dt.date, filters: KpiFilters, low: int, high: int) -> list[dict]:
    day = engagement_day(start=start, end=end)
    if day is None:
        return []
    rows = health.active_days_on(day=day, accounts=account_scope(filters)).filter(
        active_days_30__gte=low, active_days_30__lte=high
    )
    return list(rows.order_by("-active_days_30").values("account_id", "active_days_30"))


# --- Onboarding funnel and win-back -------------------------------------------------------------------------------


def signed_up(*, start: dt.date, end: dt.date, filters: KpiFilters) -> QuerySet:
    """Ids of the accounts created in [start, end) that the filters keep (the period's onboarding cohort)."""
    return Account.objects.filter(filters.q(), created_at__gte=instant(start), created_at__lt=instant(end)).values("pk")


def onboarding_funnels(*, start: dt.date, end: dt.date, filters: KpiFilters, source: str = AUTO) -> list[dict]:
    """The funnel of every onboarding journey (automations' funnel read) for the accounts created in the period;
    added up from the onboarding facts (per signup month) when they cover the period."""
    journeys = automations.onboarding_journeys().prefetch_related("milestones")
    if use_facts(source, kpi_facts.covers_periods(latest_run(), [(start, end)], filters)):
        stored = kpi_facts.onboarding_counts(start, end, filters)
        empty = {"n": 0, "counts": {}, "medians": {}}
        return [
            {"journey": journey, "funnel": automations.funnel_summary(
                milestones=sorted(journey.milestones.all(), key=lambda m: m.order), **stored.get(journey.pk, empty))}
            for journey in journeys
        ]  # fmt: skip
    cohort = signed_up(start=start, end=end, filters=filters)
    return [
        {"journey": journey, "funnel": automations.journey_funnel(journey=journey, accounts=cohort)}
        for journey in journeys
    ]


def onboarding_accounts(
    *, start: dt.date, end: dt.date, filters: KpiFilters, milestone_id: int, reached: bool
) -> list[int]:
    milestone = next(
        (m for j in automations.onboarding_journeys() for m in j.milestones.all() if m.pk == milestone_id), None
    )
    if milestone is None:
        return []
    cohort = signed_up(start=start, end=end, filters=filters)
    return list(automations.milestone_accounts(milestone=milestone, reached=reached, accounts=cohort))


def winback_results(*, start: dt.date, end: dt.date, filters: KpiFilters) -> dict:
    return winback.winback_results(start=start, end=end, accounts=account_scope(filters))


def reactivations(*, start: dt.date, end: dt.date, filters: KpiFilters) -> list[dict]:
    return list(winback.reactivated_accounts(start=start, end=end, accounts=account_scope(filters)))
