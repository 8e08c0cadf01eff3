from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts import selectors
from tests.factories import AccountFactory, SubscriptionFactory

D = dt.date(2024, 3, 1)


@pytest.mark.django_db
class TestActiveAt:
    def test_subscription_ending_on_the_day_is_not_active_that_day(self):
        sub = SubscriptionFactory(start_date=dt.date(2024, 1, 1), end_date=D)
        assert not sub.is_active_on(D)
        assert sub.is_active_on(D - dt.timedelta(days=1))
        assert not selectors.subscriptions_active_on(day=D).exists()
        assert selectors.subscriptions_active_on(day=D - dt.timedelta(days=1)).count() == 1

    def test_subscription_starting_on_the_day_is_active_that_day(self):
        sub = SubscriptionFactory(start_date=D, end_date=None)
        assert sub.is_active_on(D)
        assert not sub.is_active_on(D - dt.timedelta(days=1))
        assert list(selectors.accounts_active_on(day=D)) == [sub.account]
        assert not selectors.accounts_active_on(day=D - dt.timedelta(days=1)).exists()

    def test_open_subscription_stays_active(self):
        SubscriptionFactory(start_date=dt.date(2020, 1, 1), end_date=None)
        assert selectors.accounts_active_on(day=dt.date(2030, 1, 1)).count() == 1

    def test_account_with_several_subscriptions_counts_once(self):
        account = AccountFactory()
        SubscriptionFactory(account=account, product="plan", mrr=Decimal("100"))
        SubscriptionFactory(account=account, product="addon", mrr=Decimal("25.50"))
        assert selectors.accounts_active_on(day=D).count() == 1


@pytest.mark.django_db
class TestMrrAt:
    def test_mrr_sums_only_subscriptions_active_at_the_day(self):
        account = AccountFactory()
        SubscriptionFactory(account=account, mrr=Decimal("100"), start_date=dt.date(2024, 1, 1), end_date=D)
        SubscriptionFactory(account=account, mrr=Decimal("150"), start_date=D, end_date=None)
        SubscriptionFactory(account=account, mrr=Decimal("20"), start_date=dt.date(2024, 2, 1), end_date=None)
        assert selectors.account_mrr_on(day=D) == {account.pk: Decimal("170")}
        assert selectors.account_mrr_on(day=D - dt.timedelta(days=1)) == {account.pk: Decimal("120")}

    def test_total_mrr_is_zero_without_active_subscriptions(self):
        SubscriptionFactory(start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 2, 1))
        assert selectors.total_mrr_on(day=D) == Decimal("0")

    def test_total_mrr_over_accounts(self):
        SubscriptionFactory(mrr=Decimal("100"))
        SubscriptionFactory(mrr=Decimal("49.99"), end_date=dt.date(2024, 3, 2))
        SubscriptionFactory(mrr=Decimal("10"), start_date=dt.date(2024, 3, 2))
        assert selectors.total_mrr_on(day=D) == Decimal("149.99")

    def test_mrr_can_be_limited_to_accounts(self):
        a = SubscriptionFactory(mrr=Decimal("100")).account
        SubscriptionFactory(mrr=Decimal("50"))
        assert selectors.account_mrr_on(day=D, account_ids=[a.pk]) == {a.pk: Decimal("100")}
