"""Pause instead of cancel: no churn, no MRR while paused, resumes by itself (or early); form, page and API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Activity, Subscription
from accounts.selectors import account_mrr_on, accounts_active_on
from tests.factories import SubscriptionFactory
from winback import services
from winback.models import ChurnRecord

pytestmark = pytest.mark.django_db
D = dt.date
TODAY = D(2025, 3, 10)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def plan(own_account):
    return SubscriptionFactory(account=own_account, product="Growth", mrr=Decimal("300"), start_date=D(2024, 1, 1))


def mrr(account, day):
    return account_mrr_on(day=day, account_ids=[account.pk]).get(account.pk, Decimal("0"))


class TestPauseService:
    def test_pause_is_not_churn_has_no_mrr_and_resumes_on_the_date(self, csm, own_account, plan):
        resume = TODAY + dt.timedelta(days=30)
        assert services.account_pause(account=own_account, resume_on=resume, actor=csm, reason_code="price") == 1
        rows = list(Subscription.objects.filter(account=own_account).order_by("start_date"))
        assert [(r.start_date, r.end_date, r.status, r.mrr) for r in rows] == [
            (D(2024, 1, 1), TODAY, "active", Decimal("300")),
            (TODAY, resume, "paused", Decimal("0")),
            (resume, None, "active", Decimal("300")),
        ]
        # Paused: still an active account (not churn), but no MRR; it comes back by itself on the resume date.
        for day in (TODAY, resume - dt.timedelta(days=1)):
            assert own_account in accounts_active_on(day=day) and mrr(own_account, day) == 0
        assert mrr(own_account, TODAY - dt.timedelta(days=1)) == Decimal("300")
        assert mrr(own_account, resume) == Decimal("300")
        # No churn record, neither now nor from the subscription history after the pause.
        services.churn_capture_from_subscriptions(today=resume + dt.timedelta(days=5))
        assert not ChurnRecord.objects.exists()
        note = Activity.objects.get(account=own_account, subject="Paused instead of cancelling")
        assert "Reason given: Price." in note.body

    def test_resume_early(self, csm, own_account, plan):
        services.account_pause(account=own_account, resume_on=TODAY + dt.timedelta(days=60), actor=csm)
        early = TODAY + dt.timedelta(days=10)
        assert account_services.subscriptions_resume(account=own_account, on=early, actor=csm) == 1
        assert mrr(own_account, early - dt.timedelta(days=1)) == 0 and mrr(own_account, early) == Decimal("300")
        services.churn_capture_from_subscriptions(today=early + dt.timedelta(days=70))
        assert not ChurnRecord.objects.exists()

    def test_cancel_during_a_pause_drops_the_scheduled_resumption_and_is_churn(self, csm, own_account, plan):
        services.account_pause(account=own_account, resume_on=TODAY + dt.timedelta(days=30), actor=csm)
        services.account_cancel(account=own_account, reason_code="price", actor=csm, effective_on=TODAY)
        assert mrr(own_account, TODAY + dt.timedelta(days=40)) == 0
        assert own_account not in accounts_active_on(day=TODAY + dt.timedelta(days=40))
        assert ChurnRecord.objects.get(account=own_account).reason.code == "price"

    @pytest.mark.parametrize(
        ("start", "resume", "message"),
        [
            (TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=10), "starts today or later"),
            (TODAY, TODAY, "after the pause starts"),
            (TODAY, TODAY + dt.timedelta(days=93), "at most 92 days"),
        ],
    )
    def test_bad_dates_are_refused_and_nothing_changes(self, csm, own_account, plan, start, resume, message):
        with pytest.raises(ValueError, match=message):
            services.account_pause(account=own_account, start_on=start, resume_on=resume, actor=csm)
        assert Subscription.objects.filter(account=own_account).count() == 1

    def test_nothing_to_pause_and_no_second_pause(self, csm, own_account):
        with pytest.raises(ValueError, match="no active subscription"):
            services.account_pause(account=own_account, resume_on=TODAY + dt.timedelta(days=5), actor=csm)
        SubscriptionFactory(account=own_account, start_date=D(2024, 1, 1))
        services.account_pause(account=own_account, resume_on=TODAY + dt.timedelta(days=20), actor=csm)
        with pytest.raises(ValueError):
            services.account_pause(account=own_account, resume_on=TODAY + dt.timedelta(days=5), actor=csm)
        assert Subscription.objects.filter(account=own_account).count() == 3

    def test_only_editors_may_pause(self, teammate, own_account, plan):
        with pytest.raises(PermissionDenied):
            services.account_pause(account=own_account, resume_on=TODAY + dt.timedelta(days=5), actor=teammate)
        assert Subscription.objects.filter(account=own_account).count() == 1


class TestPausePage:
    def test_cancel_page_offers_the_pause_and_applies_it(self, client, csm, own_account, plan):
        client.force_login(csm)
        page = client.get(reverse("winback:account-cancel", args=[own_account.pk])).content.decode()
        assert reverse("winback:account-pause", args=[own_account.pk]) in page and 'name="pause-resume_on"' in page
        response = client.post(
            reverse("winback:account-pause", args=[own_account.pk]),
            {"pause-start_on": "2025-03-10", "pause-resume_on": "2025-04-10", "pause-reason": "price"},
        )
        assert response.status_code == 302
        assert Subscription.objects.filter(account=own_account, status="paused").count() == 1
        assert not ChurnRecord.objects.exists()

    def test_bad_dates_are_a_form_error(self, client, csm, own_account, plan):
        client.force_login(csm)
        response = client.post(
            reverse("winback:account-pause", args=[own_account.pk]),
            {"pause-start_on": "2025-03-10", "pause-resume_on": "2025-09-10"},
        )
        assert response.status_code == 400 and "at most 92 days" in response.content.decode()
        assert Subscription.objects.filter(account=own_account).count() == 1

    def test_nothing_active_is_a_form_error(self, client, csm, own_account):
        client.force_login(csm)
        response = client.post(
            reverse("winback:account-pause", args=[own_account.pk]),
            {"pause-start_on": "2025-03-10", "pause-resume_on": "2025-03-20"},
        )
        assert response.status_code == 400 and "no active subscription" in response.content.decode()

    def test_teammate_may_not_pause(self, client, teammate, own_account, plan):
        client.force_login(teammate)
        response = client.post(
            reverse("winback:account-pause", args=[own_account.pk]),
            {"pause-start_on": "2025-03-10", "pause-resume_on": "2025-03-20"},
        )
        assert response.status_code == 403


class TestPauseApi:
    def test_pause_through_the_api(self, client, csm, own_account, plan):
        client.force_login(csm)
        response = client.post(
            reverse("api:winback-pause-list"),
            {"account": own_account.pk, "resume_on": "2025-04-01", "reason": "price"},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        assert response.json() == {"account": own_account.pk, "start_on": "2025-03-10", "resume_on": "2025-04-01",
                                   "paused": 1}  # fmt: skip
        assert mrr(own_account, TODAY) == 0 and not ChurnRecord.objects.exists()

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"resume_on": "2025-03-01"}, "resume_on"),
            ({"resume_on": "not a date"}, "resume_on"),
            ({"resume_on": "2025-04-01", "reason": "nope"}, "reason"),
            ({}, "resume_on"),
        ],
    )
    def test_bad_input_is_a_field_error(self, client, csm, own_account, plan, body, field):
        client.force_login(csm)
        response = client.post(
            reverse("api:winback-pause-list"), {"account": own_account.pk, **body}, content_type="application/json"
        )
        assert response.status_code == 400 and field in response.json()
        assert Subscription.objects.filter(account=own_account).count() == 1

    def test_teammate_is_refused(self, client, teammate, own_account, plan):
        client.force_login(teammate)
        response = client.post(
            reverse("api:winback-pause-list"),
            {"account": own_account.pk, "resume_on": "2025-04-01"},
            content_type="application/json",
        )
        assert response.status_code == 403
        assert Subscription.objects.filter(account=own_account).count() == 1
