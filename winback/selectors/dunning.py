"""Payments for dunning: failed and recovered payments, expiring cards (billing facts and/or usage events, per
settings), and the dunning cases' summary."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q

from accounts.models import BillingEvent, BillingEventKind, UsageEvent
from winback import conf
from winback.models import DunningCase, DunningStatus


def _payment_events(*, billing_kind: str, usage_types: tuple, since: dt.datetime, until: dt.datetime) -> list:
    sources = conf.get("PAYMENT_SOURCES")
    rows: list[tuple[int, dt.datetime]] = []
    if "billing" in sources:
        rows += list(
            BillingEvent.objects.filter(kind=billing_kind, occurred_at__gte=since, occurred_at__lte=until).values_list(
                "account_id", "occurred_at"
            )
        )
    if "usage" in sources and usage_types:
        rows += list(
            UsageEvent.objects.filter(
                event_type__in=usage_types, occurred_at__gte=since, occurred_at__lte=until
            ).values_list("account_id", "occurred_at")
        )
    return rows


def payment_failures(*, since: dt.datetime, until: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """(account id, time) of failed payments: Stripe facts (BillingEvent) and/or usage events, per settings."""
    return _payment_events(
        billing_kind=BillingEventKind.PAYMENT_FAILED,
        usage_types=tuple(conf.get("PAYMENT_FAILED_EVENTS")),
        since=since,
        until=until,
    )


def payment_recoveries(*, since: dt.datetime, until: dt.datetime) -> list[tuple[int, dt.datetime]]:
    return _payment_events(
        billing_kind=BillingEventKind.PAYMENT_SUCCEEDED,
        usage_types=tuple(conf.get("PAYMENT_SUCCEEDED_EVENTS")),
        since=since,
        until=until,
    )


def cards_expiring(*, since: dt.datetime) -> list[tuple[str, int, str]]:
    """(fact key, account id, expiry) of card-expiring billing facts received since `since`."""
    rows = BillingEvent.objects.filter(kind=BillingEventKind.CARD_EXPIRING, occurred_at__gte=since)
    return [
        (f"billing:{pk}", account_id, str((details or {}).get("expires_on", "")))
        for pk, account_id, details in rows.values_list("pk", "account_id", "details")
    ]


def dunning_summary() -> dict:
    agg = DunningCase.objects.aggregate(
        open=Count("id", filter=Q(status=DunningStatus.OPEN)),
        recovered=Count("id", filter=Q(status=DunningStatus.RECOVERED)),
        exhausted=Count("id", filter=Q(status=DunningStatus.EXHAUSTED)),
    )
    closed = agg["recovered"] + agg["exhausted"]
    agg["recovery_rate"] = round(100 * agg["recovered"] / closed, 1) if closed else None
    return agg
