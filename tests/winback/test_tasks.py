"""The periodic tasks and the backfill command are thin and idempotent."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from churnapp.schedule import BEAT_SCHEDULE
from tests.factories import AccountFactory, SubscriptionFactory, SurveyResponseFactory
from winback import tasks
from winback.models import ChurnRecord, ClusterRun

pytestmark = pytest.mark.django_db


def test_every_winback_task_is_scheduled():
    scheduled = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    for name in ("capture_churn", "run_surveys", "daily_winback", "run_dunning", "cluster_comments"):
        assert f"winback.tasks.{name}" in scheduled


def test_tasks_run_twice_without_duplicates():
    account = AccountFactory()
    today = timezone.localdate()
    start, end = today - dt.timedelta(days=300), today - dt.timedelta(days=2)
    SubscriptionFactory(account=account, start_date=start, end_date=end, cancellation_reason="price")
    for _ in range(2):
        tasks.capture_churn.delay()
        tasks.run_surveys.delay()
        tasks.daily_winback.delay()
        tasks.run_dunning.delay()
    assert ChurnRecord.objects.count() == 1


def test_backfill_command_reports_records_themes_and_clusters():
    account = AccountFactory()
    SubscriptionFactory(account=account, start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 5, 1),
                        cancellation_reason="support")  # fmt: skip
    for text in ["Love the automations", "Great editor", "Too expensive", "Love it", "Great app"]:
        SurveyResponseFactory(account=account, comment=text)
    out = StringIO()
    call_command("winback_backfill", "--clusters", "2", stdout=out)
    assert "Churn: 1 new record(s)" in out.getvalue()
    assert ClusterRun.objects.count() == 1
    report = StringIO()
    call_command("winback_report", stdout=report)
    assert "Voluntary" in report.getvalue()
