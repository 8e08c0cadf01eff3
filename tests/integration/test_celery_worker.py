from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, AccountStatus
from accounts.tasks import refresh_account_snapshots
from tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.integration


def _mrr(account: Account) -> Decimal:
    return Account.objects.values_list("mrr", flat=True).get(pk=account.pk)


def test_beat_schedules_the_snapshot_task_and_the_worker_runs_it(celery_worker_with_beat, wait_for):
    today = timezone.localdate()
    account = AccountFactory(mrr=0, status=AccountStatus.ACTIVE)
    SubscriptionFactory(account=account, mrr=Decimal("250.00"), start_date=today - dt.timedelta(days=40))
    ended = AccountFactory(mrr=99, status=AccountStatus.ACTIVE)
    SubscriptionFactory(account=ended, start_date=today - dt.timedelta(days=90), end_date=today)

    # Nothing enqueues by hand: beat (inside the worker process) fires every 2 seconds.
    wait_for(lambda: _mrr(account) == Decimal("250.00"), message="beat-scheduled snapshot refresh")
    wait_for(
        lambda: Account.objects.get(pk=ended.pk).status == AccountStatus.CHURNED, message="churn from subscriptions"
    )
    assert celery_worker_with_beat.poll() is None


def test_task_sent_through_redis_is_run_by_the_worker(celery_worker_process, wait_for, settings):
    account = AccountFactory(mrr=0)
    SubscriptionFactory(account=account, mrr=Decimal("75.50"), start_date=timezone.localdate())
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    refresh_account_snapshots.apply_async(queue="scoring")  # no beat in this worker: only this message runs it
    wait_for(lambda: _mrr(account) == Decimal("75.50"), message="task delivered through Redis")
