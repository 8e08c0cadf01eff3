from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.imports.events import events_insert
from health.models import HealthSnapshot, UsageDaily
from health.tasks import recompute_health
from tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.integration


def test_ingested_events_are_rolled_up_and_scored_by_the_worker(celery_worker_process, wait_for):
    account = AccountFactory()
    SubscriptionFactory(account=account, start_date=timezone.localdate())
    now = timezone.now().replace(microsecond=0)
    events_insert(
        rows=[
            {"account_id": account.pk, "event_type": kind, "user_id": "u1", "occurred_at": now, "message_id": f"w-{i}"}
            for i, kind in enumerate(["campaign_sent", "report_viewed", "login"])
        ]
    )
    # The ingestion path queued health.tasks.refresh_rollups for the touched account-day.
    wait_for(lambda: UsageDaily.objects.filter(account=account, events=3, meaningful=True).exists(), message="rollup")
    recompute_health.delay()
    wait_for(lambda: HealthSnapshot.objects.filter(account=account).exists(), message="health recompute")
    account.refresh_from_db()
    assert account.health_band in ("green", "yellow", "red")
