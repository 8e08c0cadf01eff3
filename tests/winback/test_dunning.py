"""Dunning: failed payments start reminders with the card-update link; a recovered payment stops them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import BillingEvent
from messaging.models import EmailMessage
from tests.factories import AccountFactory, ContactFactory, UsageEventFactory
from winback.models import DunningCase
from winback.selectors.dunning import dunning_summary, payment_failures
from winback.services import dunning

pytestmark = pytest.mark.django_db


def billing(account, kind, at, key, **details):
    return BillingEvent.objects.create(account=account, kind=kind, occurred_at=at, source_event_id=key, details=details)


@pytest.fixture
def account():
    account = AccountFactory()
    ContactFactory(account=account, is_primary=True)
    return account


def test_failed_payment_opens_a_case_and_sends_reminders_on_schedule(account, settings):
    settings.WINBACK_CARD_UPDATE_URL = "https://pay.example/update"
    now = timezone.now()
    billing(account, "payment_failed", now - dt.timedelta(days=4), "in_1")
    billing(account, "payment_failed", now - dt.timedelta(days=1), "in_2")  # retry: same case
    first = dunning.dunning_run(now=now)
    assert (first["opened"], first["reminders"]) == (1, 1)  # day 0 and day 3 are due: only the latest goes out
    assert dunning.dunning_run(now=now)["reminders"] == 0
    case = DunningCase.objects.get()
    assert case.steps_sent == 2 and case.status == "open"
    message = EmailMessage.objects.filter(source="dunning").first()
    assert "https://pay.example/update" in message.body_text
    assert dunning.dunning_run(now=now + dt.timedelta(days=4))["reminders"] == 1  # day 7


def test_recovered_payment_stops_the_sequence(account):
    now = timezone.now()
    billing(account, "payment_failed", now - dt.timedelta(days=1), "in_1")
    dunning.dunning_run(now=now)
    billing(account, "payment_succeeded", now + dt.timedelta(hours=2), "in_1_paid")
    later = now + dt.timedelta(days=10)
    result = dunning.dunning_run(now=later)
    assert result["recovered"] == 1 and result["reminders"] == 0
    case = DunningCase.objects.get()
    assert case.status == "recovered" and case.steps_sent == 1
    # The old failure does not reopen a case; a new one after recovery does.
    assert dunning.dunning_run(now=later)["opened"] == 0
    billing(account, "payment_failed", later + dt.timedelta(hours=1), "in_9")
    assert dunning.dunning_run(now=later + dt.timedelta(hours=2))["opened"] == 1


def test_simulated_usage_events_are_a_payment_source(account, settings):
    UsageEventFactory(account=account, event_type="payment_failed", occurred_at=timezone.now() - dt.timedelta(hours=3))
    assert dunning.dunning_run()["opened"] == 1
    settings.WINBACK_PAYMENT_SOURCES = ("billing",)
    assert payment_failures(since=timezone.now() - dt.timedelta(days=1), until=timezone.now()) == []


def test_sequence_is_exhausted_after_the_last_step(account):
    now = timezone.now()
    billing(account, "payment_failed", now - dt.timedelta(days=25), "in_1")
    dunning.dunning_run(now=now)
    case = DunningCase.objects.get()
    assert case.status == "exhausted" and case.steps_sent == 4
    assert dunning_summary()["exhausted"] == 1


def test_card_expiring_reminder_once(account):
    billing(account, "card_expiring", timezone.now(), "card_1", expires_on="2026-12-31")
    assert dunning.card_expiry_reminders_send() == 1
    assert dunning.card_expiry_reminders_send() == 0
    assert "2026-12-31" in EmailMessage.objects.get().body_text
