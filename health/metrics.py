"""Account metrics as of a day, for every account at once: a fixed handful of grouped queries folded with pandas.

`compute_metrics(as_of=D)` only reads facts dated on or before D (events and tickets before D+1 00:00 UTC,
subscriptions by their dates, surveys answered by then): the churn model's observations at a month start M use
`as_of = M − 1 day`, so no feature ever sees the future.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery

from accounts.models import Account, Subscription, SupportTicket, UsageEvent
from accounts.selectors import latest_survey_score, next_renewal
from churnapp.queries import filter_ids
from health import conf
from health.models import CsmSentiment, FeatureFirstUse, UsageDaily

METRIC_KEYS = [
    "days_since_meaningful",
    "active_days_7",
    "active_days_30",
    "events_30",
    "active_users_30",
    "events_per_active_user",
    "feature_breadth",
    "seat_depth",
    "usage_trend",
    "tickets_30d",
    "open_tickets",
    "oldest_open_ticket_days",
    "nps",
    "csat",
    "payment_failures_60d",
    "tenure_days",
    "mrr",
    "mrr_change_90d",
    "seats",
    "billing_period",
    "days_to_renewal",
    "value_per_dollar",
    "csm_sentiment",
    "silent_churn",
]
ATTRIBUTE_KEYS = ["segment", "plan", "custom_attributes"]
SILENT_DAYS = 182  # two quarters


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows), columns=columns)


def _subscription_facts(as_of: dt.date, ids: list[int] | None) -> pd.DataFrame:
    """Per account: MRR and seats at as_of, MRR 90 and 182 days earlier, first start, longest billing period.
    Only whether a subscription was active on those days is read, never a future end date."""
    columns = ["account_id", "start_date", "end_date", "mrr", "quantity", "units", "billing_period"]
    subs = _frame(filter_ids(Subscription.objects.filter(start_date__lte=as_of), ids).values_list(*columns), columns)
    if subs.empty:
        return pd.DataFrame(
            columns=["mrr", "seats", "first_start", "mrr_before", "mrr_90", "billing_period", "active"]
        ).rename_axis("account_id")
    subs["mrr"] = subs["mrr"].astype(float)
    start = pd.to_datetime(subs["start_date"])
    end = pd.to_datetime(subs["end_date"])

    def active_on(day: dt.date) -> pd.Series:
        stamp = pd.Timestamp(day)
        return (start <= stamp) & (subs["end_date"].isna() | (end > stamp))

    active = active_on(as_of)
    subs["mrr_now"] = subs["mrr"].where(active, 0.0)
    subs["seats_now"] = subs["quantity"].where(active & subs["units"].isin(["seats", ""]), 0)
    subs["mrr_before"] = subs["mrr"].where(active_on(as_of - dt.timedelta(days=SILENT_DAYS)), 0.0)
    subs["mrr_90"] = subs["mrr"].where(active_on(as_of - dt.timedelta(days=90)), 0.0)
    subs["period_now"] = subs["billing_period"].where(active, 0)
    subs["active"] = active
    return subs.groupby("account_id").agg(
        mrr=("mrr_now", "sum"),
        seats=("seats_now", "sum"),
        first_start=("start_date", "min"),
        mrr_before=("mrr_before", "sum"),
        mrr_90=("mrr_90", "sum"),
        billing_period=("period_now", "max"),
        active=("active", "any"),
    )


def scored_account_ids(*, as_of: dt.date, among: list[int] | None = None) -> list[int]:
    """Accounts a health score is kept for on a day (of all, or `among` these): those with an active
    subscription, plus accounts that exist and have never subscribed yet (trials, onboarding) unless marked
    churned."""
    subs = _subscription_facts(as_of, among)
    active = set(subs.index[subs["active"].astype(bool)]) if not subs.empty else set()
    never = filter_ids(
        Account.objects.filter(created_at__lt=_utc(as_of + dt.timedelta(days=1)))
        .exclude(status="churned")
        .exclude(subscriptions__start_date__lte=as_of),
        among,
        "pk",
    ).values_list("pk", flat=True)
    return sorted((active | set(never)) & set(among) if among is not None else active | set(never))


def compute_metrics(*, as_of: dt.date, account_ids: list[int] | None = None) -> pd.DataFrame:
    """One row per account (index account_id) with METRIC_KEYS and ATTRIBUTE_KEYS columns, as of the end of
    `as_of`. Without `account_ids`: the accounts `scored_account_ids` keeps a score for."""
    ids = account_ids if account_ids is not None else scored_account_ids(as_of=as_of)
    end = _utc(as_of + dt.timedelta(days=1))
    start30 = _utc(as_of - dt.timedelta(days=29))
    key_events = list(conf.get("KEY_EVENTS"))
    non_activity = list(conf.get("NON_ACTIVITY_EVENTS"))

    # Accounts with their attributes, latest NPS / CSAT and unexpired CSM sentiment (correlated subqueries,
    # still one statement).
    def latest(kind: str):
        return latest_survey_score(kind=kind, before=end)

    sentiment = Subquery(
        CsmSentiment.objects.filter(account=OuterRef("pk"), created_at__lt=end, expires_on__gt=as_of)
        .order_by("-created_at", "-pk")
        .values("rating")[:1]
    )
    base = _frame(
        filter_ids(Account.objects.all(), ids, "pk")
        .annotate(nps=latest("nps"), csat=latest("csat"), csm_sentiment=sentiment)
        .values_list("pk", "segment", "plan", "custom_attributes", "created_at", "nps", "csat", "csm_sentiment"),
        ["account_id", "segment", "plan", "custom_attributes", "created_at", "nps", "csat", "csm_sentiment"],
    ).set_index("account_id")
    base = base.loc[base.index.intersection(ids)] if ids is not None else base
    out = base.copy()

    # Usage from the daily rollups of the last 60 days.
    daily = _frame(
        filter_ids(UsageDaily.objects.filter(day__gt=as_of - dt.timedelta(days=60), day__lte=as_of), ids).values_list(
            "account_id", "day", "events", "meaningful", "payment_failures"
        ),
        ["account_id", "day", "events", "meaningful", "payment_failures"],
    )
    if not daily.empty:
        age = (pd.Timestamp(as_of) - pd.to_datetime(daily["day"])).dt.days
        daily["m7"] = daily["meaningful"] & (age < 7)
        daily["m30"] = daily["meaningful"] & (age < 30)
        daily["e30"] = daily["events"].where(age < 30, 0)
        daily["eprev"] = daily["events"].where(age >= 30, 0)
        usage = daily.groupby("account_id").agg(
            active_days_7=("m7", "sum"),
            active_days_30=("m30", "sum"),
            events_30=("e30", "sum"),
            events_prev=("eprev", "sum"),
            payment_failures_60d=("payment_failures", "sum"),
        )
        out = out.join(usage)
    last_meaningful = _frame(
        filter_ids(UsageDaily.objects.filter(meaningful=True, day__lte=as_of), ids)
        .values("account_id")
        .annotate(last=Max("day"))
        .order_by()
        .values_list("account_id", "last"),
        ["account_id", "last_meaningful"],
    ).set_index("account_id")
    out = out.join(last_meaningful)

    # Distinct users and key features in 30 days need the raw events (distinct counts do not add up by day).
    raw = _frame(
        filter_ids(UsageEvent.objects.filter(occurred_at__gte=start30, occurred_at__lt=end), ids)
        .values("account_id")
        .annotate(
            active_users_30=Count("user_id", distinct=True, filter=~Q(event_type__in=non_activity)),
            feature_breadth=Count("event_type", distinct=True, filter=Q(event_type__in=key_events)),
        )
        .order_by()
        .values_list("account_id", "active_users_30", "feature_breadth"),
        ["account_id", "active_users_30", "feature_breadth"],
    ).set_index("account_id")
    out = out.join(raw)

    # Support load: tickets opened in 30 days; open at the end of as_of (resolved later, or still open now).
    open_q = Q(resolved_at__gte=end) | Q(resolved_at__isnull=True, status__in=["open", "pending"])
    tickets = _frame(
        filter_ids(SupportTicket.objects.filter(opened_at__lt=end), ids)
        .values("account_id")
        .annotate(
            tickets_30d=Count("id", filter=Q(opened_at__gte=start30)),
            open_tickets=Count("id", filter=open_q),
            oldest_open=Min("opened_at", filter=open_q),
        )
        .order_by()
        .values_list("account_id", "tickets_30d", "open_tickets", "oldest_open"),
        ["account_id", "tickets_30d", "open_tickets", "oldest_open"],
    ).set_index("account_id")
    out = out.join(tickets)

    subs = _subscription_facts(as_of, ids)
    out = out.join(subs[["mrr", "seats", "first_start", "mrr_before", "mrr_90", "billing_period"]])

    adoption = _frame(
        filter_ids(FeatureFirstUse.objects.filter(first_day__lte=as_of), ids)
        .values("account_id")
        .annotate(new_features=Count("id", filter=Q(first_day__gt=as_of - dt.timedelta(days=SILENT_DAYS))))
        .order_by()
        .values_list("account_id", "new_features"),
        ["account_id", "new_features"],
    ).set_index("account_id")
    out = out.join(adoption)
    return _finish(out, as_of)


def _finish(out: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Pure: derive the metric columns from the joined facts."""
    counts = ("active_days_7", "active_days_30", "events_30", "events_prev", "payment_failures_60d")
    counts += ("active_users_30", "feature_breadth", "tickets_30d", "open_tickets", "seats", "new_features")
    for column in counts:
        out[column] = pd.to_numeric(out[column]).fillna(0).astype(int) if column in out else 0
    for column in ("mrr", "mrr_before", "mrr_90"):
        out[column] = pd.to_numeric(out[column]).fillna(0.0).astype(float) if column in out else 0.0
    today = pd.Timestamp(as_of)
    created = pd.to_datetime(out["created_at"], utc=True).dt.tz_localize(None).dt.normalize()
    first_start = pd.to_datetime(out["first_start"]) if "first_start" in out else pd.Series(pd.NaT, index=out.index)
    since = first_start.fillna(created).where(lambda s: s <= today, today)
    out["tenure_days"] = (today - since).dt.days.astype("Int64")
    last = pd.to_datetime(out["last_meaningful"]) if "last_meaningful" in out else pd.Series(pd.NaT, index=out.index)
    # Never meaningfully active: count from the start of the relationship.
    out["days_since_meaningful"] = (today - last.fillna(since)).dt.days.astype("Int64")
    oldest = pd.to_datetime(out["oldest_open"], utc=True).dt.tz_localize(None) if "oldest_open" in out else None
    out["oldest_open_ticket_days"] = (
        ((today + pd.Timedelta(days=1) - oldest).dt.days.fillna(0).astype(int)) if oldest is not None else 0
    )
    # Contract terms renew on anniversaries of the first start: days until the current term ends.
    period = pd.to_numeric(out["billing_period"], errors="coerce") if "billing_period" in out else None
    if period is None:
        period = pd.Series(np.nan, index=out.index)
    out["billing_period"] = period.where(period > 0)
    # Terms renew on anniversaries of the first start: the same rule as the renewal date on every page.
    out["days_to_renewal"] = [
        float((next_renewal(first_start=start.date(), billing_period=int(months), day=as_of) - as_of).days)
        if not pd.isna(months) and not pd.isna(start)
        else np.nan
        for start, months in zip(first_start, out["billing_period"], strict=True)
    ]
    out["mrr_change_90d"] = ((out["mrr"] - out["mrr_90"]) / out["mrr_90"].where(out["mrr_90"] > 0)).clip(-1, 3)
    users = out["active_users_30"].replace(0, np.nan)
    out["events_per_active_user"] = out["events_30"] / users
    seats = out["seats"].replace(0, np.nan)
    out["seat_depth"] = out["active_users_30"] / seats
    prev = out["events_prev"].astype(float)
    trend = (out["events_30"] - prev) / prev.replace(0, np.nan)
    trend = trend.where(prev > 0, np.where(out["events_30"] > 0, 1.0, np.nan))
    out["usage_trend"] = trend.clip(-1, 1)
    n_keys = max(len(conf.get("KEY_EVENTS")), 1)
    # Intercom-style value: breadth, depth (active-day frequency) and reach (seat depth), scaled by price.
    value = (
        (out["feature_breadth"] / n_keys).clip(0, 1)
        + (out["active_days_30"] / 20).clip(0, 1)
        + out["seat_depth"].fillna(0).clip(0, 1)
    ) / 3
    out["value_per_dollar"] = (100 * value / (out["mrr"] / 100)).where(out["mrr"] > 0)
    out["silent_churn"] = (
        (out["tenure_days"].fillna(0) >= SILENT_DAYS)
        & (out["mrr"] > 0)
        & (out["mrr"] <= out["mrr_before"])
        & (out["new_features"] == 0)
    )
    for column in ("nps", "csat", "csm_sentiment"):
        out[column] = pd.to_numeric(out[column], errors="coerce")
    return out[METRIC_KEYS + ATTRIBUTE_KEYS]
