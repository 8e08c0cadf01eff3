"""Stored usage metrics for the dashboards and emails: the latest metrics day, active days per account or per
segment and plan, and the key features each account has adopted."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Max, QuerySet

from health.models import AccountMetrics, FeatureFirstUse


def metrics_day_on_or_before(*, day: dt.date, since: dt.date | None = None) -> dt.date | None:
    """The newest day with stored account metrics on or before `day` (and on or after `since`)."""
    days = AccountMetrics.objects.filter(day__lte=day)
    if since is not None:
        days = days.filter(day__gte=since)
    return days.aggregate(last=Max("day"))["last"]


def active_days_on(*, day: dt.date, accounts: QuerySet | None = None) -> QuerySet[AccountMetrics]:
    """Stored metrics of `day` (one row per account; `active_days_30`: days with a meaningful event in the 30 days
    up to that day), for the accounts in `accounts` (a subquery of ids) or all."""
    rows = AccountMetrics.objects.filter(day=day)
    return rows if accounts is None else rows.filter(account__in=accounts)


def active_days_by_group(*, day: dt.date) -> list[dict]:
    """Accounts with stored metrics on `day` per segment × plan of the account and active days in the 30 days up
    to that day: rows of segment, plan, active_days, n (for the dashboards' facts)."""
    rows = (
        AccountMetrics.objects.filter(day=day)
        .values(segment=F("account__segment"), plan=F("account__plan"), active_days=F("active_days_30"))
        .annotate(n=Count("id"))
        .order_by()
    )
    return list(rows)


def features_adopted(*, account_ids: list[int]) -> dict[int, list[str]]:
    """The key features each account has used, first adopted first (for mail personalised by past usage)."""
    out: dict[int, list[str]] = {account_id: [] for account_id in account_ids}
    rows = FeatureFirstUse.objects.filter(account_id__in=account_ids).order_by("account_id", "first_day", "feature")
    for account_id, feature in rows.values_list("account_id", "feature"):
        out[account_id].append(feature)
    return out
