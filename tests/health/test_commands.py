from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from health.bulk import bulk_insert
from health.models import HealthSnapshot, UsageDaily
from tests.factories import AccountFactory, SubscriptionFactory
from tests.health.factories import events

pytestmark = pytest.mark.django_db


def test_rebuild_rollups_and_recompute_commands():
    account = AccountFactory()
    SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1))
    events(account, dt.date(2026, 1, 5), ["campaign_sent", "report_viewed"])
    out = StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert "Rebuilt 1 account-day rollups" in out.getvalue()
    call_command("recompute_health", "--backfill-days", "2", stdout=out)
    assert HealthSnapshot.objects.count() == 2


def test_bulk_insert_writes_json_booleans_and_nulls():
    account = AccountFactory()
    bulk_insert(
        UsageDaily,
        [
            {"account_id": account.pk, "day": dt.date(2026, 1, 1), "events": 3, "key_events": 2, "active_users": 1,
             "meaningful": True, "payment_failures": 0, "by_type": '{"a, b":3}'},
        ],
    )  # fmt: skip
    row = UsageDaily.objects.get()
    assert (row.meaningful, row.by_type) == (True, {"a, b": 3})


def test_benchmark_prints_both_timings_and_the_ratio():
    out = StringIO()
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="needs PostgreSQL"):
            call_command("health_benchmark", "--accounts", "20", "--events", "500", stdout=out)
        return
    call_command("health_benchmark", "--accounts", "20", "--events", "500", "--days", "10", "--cleanup", stdout=out)
    text = out.getvalue()
    assert "raw SQL aggregate over the window" in text and "full health recompute" in text and "ratio" in text
