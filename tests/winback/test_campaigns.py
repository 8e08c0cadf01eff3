"""Win-back grid, campaigns by reason and value, release-note auto-enrolment, suppression, CSM reminders, KPIs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Task
from messaging.models import EmailMessage, Suppression
from tests.factories import ContactFactory, SubscriptionFactory
from tests.winback.factories import CampaignFactory, ChurnRecordFactory, reason
from winback import selectors, services
from winback.models import CampaignEnrollment, CsmReminder, ReleaseNote, Touchpoint

pytestmark = pytest.mark.django_db


def churner(code, mrr="200", segment="smb", days_ago=40, email=True, **contact):
    record = ChurnRecordFactory(
        reason=reason(code), mrr_lost=Decimal(mrr), account__segment=segment,
        churned_on=timezone.localdate() - dt.timedelta(days=days_ago),
    )  # fmt: skip
    if email:
        ContactFactory(account=record.account, is_primary=True, **contact)
    return record


def test_grid_by_top_level_reason_and_value_band():
    churner("missing_integration", mrr="50")
    churner("missing_feature", mrr="900")
    churner("price", mrr="300")
    won = churner("price", mrr="300")
    won.won_back_on = timezone.localdate()
    won.save()
    grid = selectors.winback_grid()
    rows = {row["code"]: {c["band"]: c["count"] for c in row["cells"]} for row in grid["rows"]}
    assert rows["product"] == {"low": 1, "mid": 0, "high": 1}
    assert rows["price"] == {"low": 0, "mid": 1, "high": 0}
    assert grid["accounts"] == 3


class TestCampaigns:
    def test_enrols_by_reason_including_children_and_band_and_email_names_the_reason(self):
        product_low = churner("missing_integration", mrr="50", name="Ana Silva")
        churner("missing_feature", mrr="900")  # wrong band
        churner("price", mrr="50")  # wrong reason
        campaign = CampaignFactory(reason_codes=["product"], value_bands=["low"])
        assert services.campaign_enroll(campaign=campaign) == 1
        assert services.campaign_enroll(campaign=campaign) == 0
        counts = services.campaign_send(campaign=campaign)
        assert counts == {"sent": 1, "suppressed": 0, "no_contact": 0}
        message = EmailMessage.objects.get()
        assert message.account == product_low.account and message.source == "winback"
        assert "missing integration" in message.body_text
        assert "hollow" not in message.body_text
        touch = Touchpoint.objects.get()
        assert touch.campaign == campaign and touch.email_message_id == message.pk

    def test_never_contacts_suppressed_accounts_unsubscribed_contacts_or_suppressed_addresses(self, csm):
        asked = churner("price")
        services.suppression_add(account=asked.account, reason="Asked not to be contacted")
        unsubscribed = churner("price", unsubscribed=True)
        listed = churner("price", email=False)
        ContactFactory(account=listed.account, email="blocked@customer.example")
        Suppression.objects.create(email="blocked@customer.example", reason="bounced")
        ok = churner("price")
        campaign = CampaignFactory(reason_codes=["price"])
        services.campaign_enroll(campaign=campaign)
        counts = services.campaign_send(campaign=campaign)
        # The account that asked is enrolled as suppressed and never reaches the outbox at all.
        assert counts["sent"] == 1 and counts["suppressed"] == 2
        assert not EmailMessage.objects.filter(account=asked.account).exists()
        delivered = EmailMessage.objects.exclude(status="suppressed")
        assert [m.account for m in delivered] == [ok.account]
        assert (
            not EmailMessage.objects.filter(account__in=[asked.account, unsubscribed.account])
            .exclude(status="suppressed")
            .exists()
        )
        assert CampaignEnrollment.objects.get(account=asked.account).status == "suppressed"

    def test_won_back_accounts_are_not_enrolled(self):
        record = churner("price")
        record.won_back_on = timezone.localdate()
        record.save()
        campaign = CampaignFactory(reason_codes=["price"])
        assert services.campaign_enroll(campaign=campaign) == 0

    def test_discount_campaign_needs_a_code(self):
        with pytest.raises(ValueError):
            services.campaign_create(name="x", offer="discount", reason_codes=["price"], subject="s", body="b")


class TestReleaseNotes:
    def test_release_note_enrols_past_churners_with_the_reasons_it_fixes(self):
        integration = churner("missing_integration")
        price = churner("price")
        note = ReleaseNote.objects.create(title="Shopify integration", url="https://example.com/shopify")
        campaign = services.release_note_publish(note=note, reason_codes=["missing_integration"])
        assert [e.account for e in campaign.enrollments.all()] == [integration.account]
        message = EmailMessage.objects.get()
        assert "Shopify integration" in message.subject and "missing integration" in message.body_text
        assert message.account != price.account
        # Publishing again reuses the campaign and mails nobody twice.
        services.release_note_publish(note=note, reason_codes=["missing_integration"])
        assert EmailMessage.objects.count() == 1


class TestCsmReminders:
    def test_offsets_scale_with_account_size(self):
        assert services.reminder_days("smb") == [30, 60, 90]
        assert services.reminder_days("enterprise") == [15, 30, 45]

    def test_reminder_task_on_the_due_day_once(self, csm):
        today = timezone.localdate()
        record = churner("competitor", days_ago=30)
        record.account.owner = csm
        record.account.save()
        big = churner("competitor", segment="enterprise", mrr="2000", days_ago=15)
        assert services.csm_reminders_create(today=today) == 2
        assert services.csm_reminders_create(today=today) == 0
        task = Task.objects.get(account=record.account)
        assert task.assignee == csm and "competitor" in task.title and task.due_date == today
        assert Task.objects.get(account=big.account).priority == "high"
        assert CsmReminder.objects.count() == 2

    def test_no_reminders_for_won_back_suppressed_or_long_past_churns(self):
        today = timezone.localdate()
        won = churner("price", days_ago=30)
        won.won_back_on = today
        won.save()
        asked = churner("price", days_ago=30)
        services.suppression_add(account=asked.account)
        churner("price", days_ago=400)
        assert services.csm_reminders_create(today=today) == 0


def test_campaign_kpis_reactivation_rate_mrr_and_by_offer():
    today = timezone.localdate()
    back, gone = churner("price", days_ago=100), churner("price", days_ago=100)
    for record in (back, gone):
        SubscriptionFactory(account=record.account, start_date=dt.date(2023, 1, 1), end_date=record.churned_on)
    campaign = CampaignFactory(reason_codes=["price"], offer="discount", discount_code="BACK20")
    services.campaign_enroll(campaign=campaign)
    services.campaign_send(campaign=campaign)
    SubscriptionFactory(account=back.account, start_date=today, mrr=Decimal("120"))
    services.reactivations_detect(today=today)
    [kpis] = selectors.campaign_kpis()
    assert (kpis["contacted"], kpis["reactivated"], kpis["rate"], kpis["mrr_won_back"]) == (2, 1, 50.0, Decimal("120"))
    offers = {row["offer"]: row for row in selectors.conversion_by_offer()}
    assert (offers["discount"]["contacted"], offers["discount"]["reactivated"]) == (2, 1)
    touch = {row["label"]: row for row in selectors.response_by_touchpoint()}[f"{campaign.name}: email"]
    assert (touch["n"], touch["responded"]) == (2, 1)
    assert CampaignEnrollment.objects.get(account=back.account).status == "converted"


def test_a_clicked_campaign_email_counts_as_a_touchpoint_response():
    from messaging.models import EmailMessage

    churner("price")
    campaign = CampaignFactory(reason_codes=["price"])
    services.campaign_enroll(campaign=campaign)
    services.campaign_send(campaign=campaign)
    EmailMessage.objects.update(clicked_at=timezone.now())
    assert services.touchpoints_sync_responses() == 1
    assert services.touchpoints_sync_responses() == 0
    [row] = selectors.response_by_touchpoint()
    assert (row["n"], row["responded"]) == (1, 1)
