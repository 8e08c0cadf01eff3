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


def churn_world(*, end: dt.date, n: int = 40, seed: int = 5):
    """Accounts over ~10 months: half stay engaged, half go quiet 60 days before their subscription ends."""
    import random

    from accounts.models import UsageEvent
    from tests.factories import SubscriptionFactory

    rng = random.Random(seed)
    start = end - dt.timedelta(days=300)
    rows, accounts = [], []
    for i in range(n):
        account = AccountFactory(segment=rng.choice(["smb", "mid_market"]))
        churn_day = end - dt.timedelta(days=rng.randint(20, 250)) if i % 2 else None
        SubscriptionFactory(account=account, start_date=start, end_date=churn_day, quantity=3)
        quiet_from = (churn_day - dt.timedelta(days=rng.randint(45, 75))) if churn_day else end
        day = start
        while day < min(quiet_from, end):
            if rng.random() < 0.6:
                for k, kind in enumerate(("campaign_sent", "report_viewed", "login")):
                    rows.append(
                        UsageEvent(account=account, user_id=f"u{rng.randint(1, 3)}", event_type=kind,
                                   occurred_at=at(day) + dt.timedelta(minutes=k), message_id=f"cw-{next(_ids)}")
                    )  # fmt: skip
            day += dt.timedelta(days=1)
        accounts.append(account)
    UsageEvent.objects.bulk_create(rows, batch_size=2000)
    return accounts
