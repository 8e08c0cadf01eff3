"""The facts the churn model's behavioural features are computed from: daily rollups, subscriptions, tickets,
surveys and account creation days, as plain frames."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from accounts.models import Account, Subscription, SupportTicket, SurveyResponse
from health.features.inputs import Facts
from health.models import UsageDaily


def churn_facts(*, since: dt.date, until: dt.date, account_ids: list[int] | None = None) -> Facts:
    """The facts `health.features` computes observations from, dated in [since, until]: event counts per type and
    day from the daily rollups (never the raw events), activity per day, subscriptions, tickets and surveys; of
    every account or of `account_ids` only."""

    def of(queryset, field="account_id"):
        return queryset if account_ids is None else queryset.filter(**{f"{field}__in": account_ids})

    rollups = of(UsageDaily.objects.filter(day__gte=since, day__lte=until)).values_list(
        "account_id", "day", "events", "active_users", "by_type"
    )
    ids, days, kinds, counts, activity = [], [], [], [], []
    for account_id, day, n_events, users, by_type in rollups.iterator(chunk_size=5000):
        activity.append((account_id, day, n_events, users))
        for kind, n in (by_type or {}).items():
            ids.append(account_id)
            days.append(day)
            kinds.append(kind)
            counts.append(n)
    daily = pd.DataFrame({"account_id": ids, "day": days, "event_type": kinds, "n": counts})
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    subs = pd.DataFrame.from_records(
        list(
            of(Subscription.objects.filter(start_date__lte=until)).values_list(
                "account_id", "product", "start_date", "end_date", "mrr", "quantity", "billing_period"
            )
        ),
        columns=["account_id", "product", "start_date", "end_date", "mrr", "quantity", "billing_period"],
    )
    subs["mrr"] = subs["mrr"].astype(float)
    tickets = pd.DataFrame.from_records(
        list(
            of(SupportTicket.objects.filter(opened_at__gte=start, opened_at__lt=end)).values_list(
                "account_id", "opened_at"
            )
        ),
        columns=["account_id", "day"],
    )
    tickets["day"] = pd.to_datetime(tickets["day"], utc=True).dt.date
    surveys = pd.DataFrame.from_records(
        list(
            of(SurveyResponse.objects.filter(responded_at__lt=end)).values_list(
                "account_id", "kind", "score", "responded_at"
            )
        ),
        columns=["account_id", "kind", "score", "day"],
    )
    surveys["day"] = pd.to_datetime(surveys["day"], utc=True).dt.date
    accounts = pd.DataFrame.from_records(
        list(of(Account.objects, "pk").values_list("pk", "created_at")), columns=["account_id", "created_day"]
    )
    accounts["created_day"] = pd.to_datetime(accounts["created_day"], utc=True).dt.date
    return Facts(
        daily=daily,
        activity=pd.DataFrame.from_records(activity, columns=["account_id", "day", "events", "active_users"]),
        subscriptions=subs,
        tickets=tickets,
        surveys=surveys,
        accounts=accounts,
    )
