"""Churn capture from subscriptions, Stripe events and the cancel form; reactivation and its attribution."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import AccountStatus, Subscription
from accounts.services import account_refresh_snapshots
from tests.factories import AccountFactory, SubscriptionFactory
from tests.winback.factories import CampaignFactory, ChurnRecordFactory
from winback import services
from winback.models import ChurnRecord, Reactivation, Touchpoint, TouchpointChannel

pytestmark = pytest.mark.django_db
D = dt.date


def test_taxonomy_is_hierarchical_and_marks_payment_failure_involuntary():
    from winback.models import ChurnReason

    assert ChurnReason.objects.get(code="missing_integration").parent.code == "product"
    assert ChurnReason.objects.get(code="payment_failure").is_involuntary
    assert str(ChurnReason.objects.get(code="support")) == "Service › Support"


class TestFromSubscriptions:
    def test_backfill_creates_one_record_per_departure_and_is_idempotent(self):
        account = AccountFactory()
        SubscriptionFactory(account=account, start_date=D(2024, 1, 1), end_date=D(2024, 7, 1), mrr=Decimal("250"),
                            status="canceled", cancellation_reason="missing_integration")  # fmt: skip
        paused = AccountFactory()
        SubscriptionFactory(account=paused, start_date=D(2024, 1, 1), end_date=D(2024, 5, 1))
        SubscriptionFactory(account=paused, start_date=D(2024, 5, 1), end_date=None, mrr=0, status="paused")
        first = services.churn_capture_from_subscriptions(today=D(2025, 1, 1))
        again = services.churn_capture_from_subscriptions(today=D(2025, 1, 1))
        record = ChurnRecord.objects.get()
        assert (record.account, record.churned_on, record.reason.code, record.mrr_lost) == (
            account, D(2024, 7, 1), "missing_integration", Decimal("250")
        )  # fmt: skip
        assert record.churn_type == "voluntary"
        assert first["churn_records"] == 1 and again["churn_records"] == 0
        assert not ChurnRecord.objects.filter(account=paused).exists()

    def test_payment_failure_record_is_involuntary(self):
        account = AccountFactory()
        SubscriptionFactory(account=account, end_date=D(2024, 7, 1), cancellation_reason="payment_failure")
        services.churn_capture_from_subscriptions(today=D(2025, 1, 1))
        assert ChurnRecord.objects.get(account=account).churn_type == "involuntary"


class TestFromStripe:
    def test_deleted_subscription_records_churn_and_pause_records_nothing(self):
        account = AccountFactory()
        deleted = {
            "id": "evt_del",
            "type": "customer.subscription.deleted",
            "data": {"object": {"ended_at": 1717200000, "plan": {"amount": 9900},
                                "cancellation_details": {"feedback": "switched_service"}}},
        }  # fmt: skip
        paused = {"id": "evt_pause", "type": "customer.subscription.paused", "data": {"object": {"status": "paused"}}}
        assert services.churn_capture_from_stripe_event(account=account, event=paused) is None
        record = services.churn_capture_from_stripe_event(account=account, event=deleted)
        assert (record.reason.code, record.source, record.source_ref, record.mrr_lost) == (
            "competitor", "stripe", "evt_del", Decimal("99.00")
        )  # fmt: skip
        services.churn_capture_from_stripe_event(account=account, event=deleted)
        assert ChurnRecord.objects.count() == 1


class TestCancelForm:
    def test_cancel_ends_subscriptions_records_reason_and_churns_the_account(self, csm, own_account):
        SubscriptionFactory(account=own_account, mrr=Decimal("120"), start_date=D(2024, 1, 1))
        record = services.account_cancel(
            account=own_account, reason_code="competitor", competitor="Mailchimp", comment="Cheaper", actor=csm
        )
        own_account.refresh_from_db()
        sub = Subscription.objects.get(account=own_account)
        assert own_account.status == AccountStatus.CHURNED
        assert (sub.end_date, sub.status, sub.cancellation_reason) == (timezone.localdate(), "canceled", "competitor")
        assert (record.competitor, record.mrr_lost, record.source, record.created_by) == (
            "Mailchimp", Decimal("120"), "form", csm
        )  # fmt: skip
        # The subscription-based capture finds the same departure and adds nothing.
        services.churn_capture_from_subscriptions(today=timezone.localdate())
        assert ChurnRecord.objects.count() == 1
        # The snapshot task agrees: the account stays churned.
        account_refresh_snapshots()
        own_account.refresh_from_db()
        assert own_account.status == AccountStatus.CHURNED

    def test_only_editors_may_cancel(self, teammate, own_account):
        with pytest.raises(PermissionDenied):
            services.account_cancel(account=own_account, reason_code="price", actor=teammate)
        assert not ChurnRecord.objects.exists()

    def test_unknown_reason_is_refused(self, csm, own_account):
        with pytest.raises(ValueError):
            services.account_cancel(account=own_account, reason_code="nope", actor=csm)
        assert not ChurnRecord.objects.exists()


class TestReactivation:
    def _churned(self, churned_on):
        record = ChurnRecordFactory(churned_on=churned_on)
        SubscriptionFactory(account=record.account, start_date=D(2023, 1, 1), end_date=churned_on)
        return record

    def test_new_subscription_wins_back_and_is_attributed_to_the_last_touchpoint_in_window(self):
        today = timezone.localdate()
        record = self._churned(today - dt.timedelta(days=100))
        campaign = CampaignFactory(attribution_window_days=30)
        old = Touchpoint.objects.create(account=record.account, campaign=campaign, channel=TouchpointChannel.EMAIL,
                                        occurred_at=timezone.now() - dt.timedelta(days=20))  # fmt: skip
        SubscriptionFactory(account=record.account, start_date=today - dt.timedelta(days=2), mrr=Decimal("90"))
        assert services.reactivations_detect(today=today) == 1
        assert services.reactivations_detect(today=today) == 0
        reactivation = Reactivation.objects.get()
        assert (reactivation.touchpoint, reactivation.campaign, reactivation.mrr_won_back) == (
            old, campaign, Decimal("90")
        )  # fmt: skip
        record.account.refresh_from_db()
        record.refresh_from_db()
        assert record.account.status == AccountStatus.WON_BACK
        assert record.won_back_on == today - dt.timedelta(days=2)

    def test_touchpoint_outside_the_window_gets_no_credit(self):
        today = timezone.localdate()
        record = self._churned(today - dt.timedelta(days=200))
        campaign = CampaignFactory(attribution_window_days=30)
        Touchpoint.objects.create(account=record.account, campaign=campaign, channel=TouchpointChannel.EMAIL,
                                  occurred_at=timezone.now() - dt.timedelta(days=45))  # fmt: skip
        SubscriptionFactory(account=record.account, start_date=today, mrr=Decimal("90"))
        services.reactivations_detect(today=today)
        reactivation = Reactivation.objects.get()
        assert reactivation.touchpoint is None and reactivation.campaign is None

    def test_agrees_with_the_snapshot_task(self):
        today = timezone.localdate()
        record = self._churned(today - dt.timedelta(days=60))
        SubscriptionFactory(account=record.account, start_date=today - dt.timedelta(days=1))
        account_refresh_snapshots()  # sets won back first
        services.reactivations_detect(today=today)
        record.account.refresh_from_db()
        assert record.account.status == AccountStatus.WON_BACK
        assert Reactivation.objects.count() == 1


def test_stored_stripe_webhook_deliveries_are_classified():
    from accounts.models import InboundWebhookEvent

    account = AccountFactory()
    payload = {
        "id": "evt_9",
        "type": "customer.subscription.deleted",
        "data": {"object": {"ended_at": 1717200000, "cancellation_details": {"reason": "payment_failed"}}},
    }
    InboundWebhookEvent.objects.create(source="stripe", event_id="evt_9", type=payload["type"], payload=payload,
                                       status="processed", account=account)  # fmt: skip
    assert services.churn_capture_from_webhooks() == 1
    record = ChurnRecord.objects.get()
    assert (record.churn_type, record.reason.code, record.source_ref) == ("involuntary", "payment_failure", "evt_9")


class TestStripeAndSubscriptionsTogether:
    """The accounts webhook ends the subscription with Stripe's reason; both capture paths agree on one record."""

    def _deleted(self, details):
        return {
            "id": "evt_d",
            "type": "customer.subscription.deleted",
            "data": {"object": {"ended_at": 1717200000, "cancellation_details": details}},
        }

    def test_stripe_payment_failed_on_the_subscription_is_involuntary(self):
        account = AccountFactory()
        SubscriptionFactory(account=account, end_date=D(2024, 6, 1), status="canceled",
                            cancellation_reason="payment_failed")  # fmt: skip
        services.churn_capture_from_subscriptions(today=D(2025, 1, 1))
        record = ChurnRecord.objects.get()
        assert (record.churn_type, record.reason.code) == ("involuntary", "payment_failure")

    def test_feedback_from_the_event_enriches_the_record_from_the_subscription(self):
        account = AccountFactory()
        SubscriptionFactory(account=account, end_date=D(2024, 6, 1), status="canceled",
                            cancellation_reason="cancellation_requested")  # fmt: skip
        services.churn_capture_from_subscriptions(today=D(2025, 1, 1))
        assert ChurnRecord.objects.get().reason is None
        services.churn_capture_from_stripe_event(
            account=account, event=self._deleted({"reason": "cancellation_requested", "feedback": "too_expensive"})
        )
        record = ChurnRecord.objects.get()
        assert (record.reason.code, record.churn_type, record.source_ref) == ("price", "voluntary", "evt_d")
