"""Win-back tasks through Redis and a real Celery worker on PostgreSQL: churn capture and survey emails."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from messaging.models import EmailMessage
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from winback.models import ChurnRecord, SurveyInvitation, SurveySchedule
from winback.tasks import capture_churn, run_surveys

pytestmark = pytest.mark.integration


def test_churn_capture_and_survey_emails_run_in_the_worker(celery_worker_process, wait_for):
    today = timezone.localdate()
    gone = AccountFactory()
    SubscriptionFactory(account=gone, start_date=today - dt.timedelta(days=200), end_date=today - dt.timedelta(days=1),
                        cancellation_reason="competitor")  # fmt: skip
    new = AccountFactory()
    SubscriptionFactory(account=new, start_date=today - dt.timedelta(days=90))
    ContactFactory(account=new, is_primary=True)
    SurveySchedule.objects.exclude(trigger="days_after_start").update(is_active=False)

    capture_churn.apply_async()
    run_surveys.apply_async(queue="email")
    wait_for(lambda: ChurnRecord.objects.filter(account=gone, reason__code="competitor").exists(), message="churn")
    wait_for(lambda: SurveyInvitation.objects.filter(account=new).exists(), message="survey invitation")
    # The invitation email goes through the automations outbox and is sent by the same worker.
    wait_for(lambda: EmailMessage.objects.filter(source="survey", status="sent").exists(), message="email sent")
    assert celery_worker_process.poll() is None
