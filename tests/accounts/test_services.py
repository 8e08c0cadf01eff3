from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from accounts import services
from accounts.models import AccountStatus, Activity, Task
from accounts.tasks import refresh_account_snapshots
from tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2024, 6, 15)


class TestRefreshSnapshots:
    def test_caches_mrr_seats_and_renewal_of_active_subscriptions(self):
        account = AccountFactory(mrr=0)
        SubscriptionFactory(account=account, mrr=Decimal("100"), quantity=10, end_date=dt.date(2024, 12, 1))
        SubscriptionFactory(account=account, mrr=Decimal("20"), quantity=2, start_date=dt.date(2024, 5, 1))
        SubscriptionFactory(account=account, mrr=Decimal("999"), quantity=99, end_date=TODAY)  # ended today
        services.account_refresh_snapshots(today=TODAY)
        account.refresh_from_db()
        # Monthly terms renew on monthly anniversaries of the first start (Jan 1): next is Jul 1, not the end date.
        assert (account.mrr, account.seats, account.renewal_date) == (Decimal("120"), 12, dt.date(2024, 7, 1))

    def test_seats_count_only_seat_subscriptions(self):
        account = AccountFactory()
        SubscriptionFactory(account=account, quantity=10, units="seats")
        SubscriptionFactory(account=account, product="sms-pack", quantity=5000, units="messages")
        services.account_refresh_snapshots(today=TODAY)
        account.refresh_from_db()
        assert account.seats == 10

    def test_account_whose_subscriptions_ended_churns_with_audit_entry(self):
        account = AccountFactory(status=AccountStatus.ACTIVE, mrr=100)
        SubscriptionFactory(account=account, end_date=TODAY)
        result = services.account_refresh_snapshots(today=TODAY)
        account.refresh_from_db()
        assert account.status == AccountStatus.CHURNED and account.mrr == 0
        assert result["churned"] == 1
        assert Activity.objects.get(account=account).details["new"] == "Churned"

    def test_churned_account_with_a_new_subscription_is_won_back(self):
        account = AccountFactory(status=AccountStatus.CHURNED)
        SubscriptionFactory(account=account, start_date=TODAY)
        services.account_refresh_snapshots(today=TODAY)
        account.refresh_from_db()
        assert account.status == AccountStatus.WON_BACK

    def test_account_without_any_subscription_keeps_its_status(self):
        account = AccountFactory(status=AccountStatus.ONBOARDING)
        SubscriptionFactory(account=account, start_date=TODAY + dt.timedelta(days=3))  # not started yet
        services.account_refresh_snapshots(today=TODAY)
        account.refresh_from_db()
        assert account.status == AccountStatus.ONBOARDING

    def test_is_idempotent(self):
        account = AccountFactory(status=AccountStatus.ACTIVE)
        SubscriptionFactory(account=account, end_date=TODAY)
        services.account_refresh_snapshots(today=TODAY)
        services.account_refresh_snapshots(today=TODAY)
        assert Activity.objects.count() == 1

    def test_query_count_is_independent_of_account_count(self, django_assert_max_num_queries):
        for _ in range(30):
            SubscriptionFactory(end_date=TODAY)
        # + two reads for the renewal dates (subscriptions, cached dates) and one for the subscriptions priced in
        # another currency, and one INSERT of the audit trail's entries for the status changes, whatever the number
        # of accounts.
        with django_assert_max_num_queries(12):
            services.account_refresh_snapshots(today=TODAY)

    def test_task_runs_the_service(self):
        with time_machine.travel(dt.datetime(2024, 6, 15, 12, tzinfo=dt.UTC)):
            account = AccountFactory()
            SubscriptionFactory(account=account, mrr=Decimal("42"))
            assert refresh_account_snapshots.delay().get()["accounts"] == 1
        account.refresh_from_db()
        assert account.mrr == Decimal("42")


class TestWritesRespectOwnership:
    def test_csm_cannot_write_on_another_csms_account(self, csm, other_account):
        with pytest.raises(PermissionDenied):
            services.activity_create(account=other_account, author=csm, body="x")
        with pytest.raises(PermissionDenied):
            services.task_create(account=other_account, title="x", created_by=csm)
        with pytest.raises(PermissionDenied):
            services.account_set_status(account=other_account, status="at_risk", actor=csm)
        assert not Activity.objects.exists() and not Task.objects.exists()

    def test_bulk_assign_with_one_forbidden_account_changes_nothing(self, csm, own_account, other_account):
        with pytest.raises(PermissionDenied):
            services.account_assign_owner(accounts=[own_account, other_account], owner=csm, actor=csm)
        other_account.refresh_from_db()
        assert other_account.owner != csm

    def test_system_writes_need_no_user(self, own_account):
        task = services.task_create(account=own_account, title="Renewal prep", created_by=None)
        assert task.assignee == own_account.owner
