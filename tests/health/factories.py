"""Factories and small data builders for the health tests."""

from __future__ import annotations

import datetime as dt
import itertools

import factory

from health import models
from tests.factories import AccountFactory

_ids = itertools.count()


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def events(account, day: dt.date, kinds: list[str], user: str = "u1", hour: int = 12):
    """Usage events for one user on one day, in one bulk insert."""
    from accounts.models import UsageEvent

    return UsageEvent.objects.bulk_create(
        [
            UsageEvent(
                account=account,
                user_id=user,
                event_type=kind,
                occurred_at=at(day, hour) + dt.timedelta(minutes=i),
                message_id=f"hm-{next(_ids)}",
            )
            for i, kind in enumerate(kinds)
        ]
    )


class CsmSentimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CsmSentiment

    account = factory.SubFactory(AccountFactory)
    rating = 2
    comment = "Champion left"
    expires_on = dt.date(2099, 1, 1)


def declining_history(account, *, end: dt.date, days: int = 60):
    """A busy account whose usage stops 20 days before `end`, with two new tickets; health backfilled."""
    from health.rollups import rollups_rebuild
    from health.services import health_backfill
    from tests.factories import SubscriptionFactory, SupportTicketFactory

    SubscriptionFactory(account=account, start_date=end - dt.timedelta(days=400), quantity=2)
    for offset in range(20, days + 40):
        events(account, end - dt.timedelta(days=offset), ["campaign_sent", "report_viewed", "template_edited"])
        events(account, end - dt.timedelta(days=offset), ["login"], user="u2")
    for offset in (3, 5):
        SupportTicketFactory(account=account, opened_at=at(end - dt.timedelta(days=offset)))
    rollups_rebuild()
    health_backfill(days=days, end=end)
