"""Win-back pages, the cancel form and API, and the public survey pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountStatus, SurveyResponse, Task
from tests.factories import SubscriptionFactory
from tests.winback.factories import ChurnRecordFactory, SurveyInvitationFactory, reason
from winback import services
from winback.models import ChurnRecord, WinbackSuppression

pytestmark = pytest.mark.django_db


class TestPages:
    def test_anonymous_is_sent_to_login(self, client, own_account):
        for url in [
            reverse("winback:overview"),
            reverse("winback:feedback"),
            reverse("winback:account-card", args=[own_account.pk]),
            reverse("winback:account-cancel", args=[own_account.pk]),
        ]:
            assert client.get(url).status_code == 302, url

    def test_viewer_reads_overview_feedback_and_card(self, client, viewer, own_account):
        ChurnRecordFactory(account=own_account, competitor="Mailchimp")
        client.force_login(viewer)
        overview = client.get(reverse("winback:overview"))
        assert overview.status_code == 200
        assert b"reason \xc3\x97 value" in overview.content
        assert b"New campaign" not in overview.content  # configuring is for managers
        assert client.get(reverse("winback:feedback")).status_code == 200
        card = client.get(reverse("winback:account-card", args=[own_account.pk]))
        assert b"Mailchimp" in card.content and b"Record a cancellation" not in card.content

    def test_overview_query_count_does_not_grow_with_records(self, client, manager, django_assert_max_num_queries):
        client.force_login(manager)
        ChurnRecordFactory.create_batch(3)
        services.page_facts_refresh()
        with django_assert_max_num_queries(20) as ctx:
            client.get(reverse("winback:overview"))
        few = len(ctx.captured_queries)
        ChurnRecordFactory.create_batch(20)
        services.page_facts_refresh()
        with django_assert_max_num_queries(few):
            client.get(reverse("winback:overview"))

    def test_customer_360_links_the_card(self, client, csm, own_account):
        client.force_login(csm)
        page = client.get(reverse("account-detail", args=[own_account.pk]))
        assert reverse("winback:account-card", args=[own_account.pk]).encode() in page.content


class TestCancelForm:
    def test_owner_cancels_with_a_reason(self, client, csm, own_account):
        SubscriptionFactory(account=own_account, mrr=Decimal("75"))
        client.force_login(csm)
        form = client.get(reverse("winback:account-cancel", args=[own_account.pk]))
        assert b"Missing integration" in form.content
        response = client.post(
            reverse("winback:account-cancel", args=[own_account.pk]),
            {"reason": "missing_integration", "churn_type": "voluntary", "competitor": "", "comment": "No Shopify",
             "effective_on": timezone.localdate().isoformat()},
        )  # fmt: skip
        assert response.status_code == 302
        record = ChurnRecord.objects.get(account=own_account)
        assert (record.reason.code, record.comment, record.mrr_lost) == ("missing_integration", "No Shopify", 75)
        own_account.refresh_from_db()
        assert own_account.status == AccountStatus.CHURNED

    def test_reason_is_required(self, client, csm, own_account):
        client.force_login(csm)
        response = client.post(reverse("winback:account-cancel", args=[own_account.pk]), {"churn_type": "voluntary"})
        assert response.status_code == 200 and b"errorlist" in response.content
        assert not ChurnRecord.objects.exists()

    def test_teammate_may_not_cancel(self, client, teammate, own_account):
        client.force_login(teammate)
        assert client.get(reverse("winback:account-cancel", args=[own_account.pk])).status_code == 403
        response = client.post(reverse("winback:account-cancel", args=[own_account.pk]), {"reason": "price"})
        assert response.status_code == 403

    def test_do_not_contact(self, client, csm, own_account, other_account):
        client.force_login(csm)
        client.post(reverse("winback:account-suppress", args=[own_account.pk]), {"reason": "asked"})
        assert WinbackSuppression.objects.filter(account=own_account).exists()
        assert client.post(reverse("winback:account-suppress", args=[other_account.pk])).status_code == 403


class TestCancelApi:
    def test_cancel_through_the_api(self, client, csm, own_account):
        SubscriptionFactory(account=own_account)
        client.force_login(csm)
        url = reverse("api:churn-record-list")
        response = client.post(
            url,
            {"account": own_account.pk, "reason": "competitor", "competitor": "Brevo"},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["reason"] == "competitor" and response.json()["source"] == "api"
        listing = client.get(url, {"reason": "competitor"}).json()
        assert listing["count"] == 1

    def test_bad_reason_is_a_field_error(self, client, csm, own_account):
        client.force_login(csm)
        response = client.post(
            reverse("api:churn-record-list"),
            {"account": own_account.pk, "reason": "nope"},
            content_type="application/json",
        )
        assert response.status_code == 400 and "reason" in response.json()

    def test_teammate_is_refused(self, client, teammate, own_account):
        client.force_login(teammate)
        response = client.post(
            reverse("api:churn-record-list"),
            {"account": own_account.pk, "reason": "price"},
            content_type="application/json",
        )
        assert response.status_code == 403
        assert not ChurnRecord.objects.exists()

    def test_reasons_listed_with_hierarchy(self, client, viewer):
        client.force_login(viewer)
        rows = {r["code"]: r for r in client.get(reverse("api:churn-reason-list")).json()}
        assert rows["missing_feature"]["parent"] == "product"


class TestPublicSurvey:
    def test_answer_once_then_friendly_page(self, client, own_account):
        invitation = SurveyInvitationFactory(contact__account=own_account)
        url = reverse("winback:survey-answer", args=[invitation.token])
        page = client.get(url)
        assert page.status_code == 200 and b"recommend" in page.content
        response = client.post(url, {"score": "3", "comment": "Too slow"})
        assert response.status_code == 302
        assert response["Location"] == reverse("winback:survey-thanks", args=[invitation.token])
        assert b"within two working days" in client.get(response["Location"]).content
        again = client.post(url, {"score": "10"})
        assert again.status_code == 410 and b"already answered" in again.content
        assert SurveyResponse.objects.get().score == 3
        task = Task.objects.get()
        assert (task.priority, task.assignee, task.due_date) == (
            "high", own_account.owner, timezone.localdate() + dt.timedelta(days=2)
        )  # fmt: skip

    def test_expired_link_records_nothing(self, client):
        invitation = SurveyInvitationFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
        url = reverse("winback:survey-answer", args=[invitation.token])
        assert client.get(url).status_code == 410
        response = client.post(url, {"score": "9"})
        assert response.status_code == 410 and b"expired" in response.content
        assert not SurveyResponse.objects.exists()

    def test_unknown_token(self, client):
        response = client.get(reverse("winback:survey-answer", args=["nope"]))
        assert response.status_code == 404 and b"could not find" in response.content

    @pytest.mark.parametrize("score", ["11", "-1", "abc", ""])
    def test_out_of_range_score_is_rejected_with_a_message(self, client, score):
        invitation = SurveyInvitationFactory()
        response = client.post(reverse("winback:survey-answer", args=[invitation.token]), {"score": score})
        assert response.status_code == 400
        assert b"errorlist" in response.content
        assert not SurveyResponse.objects.exists()
        invitation.refresh_from_db()
        assert invitation.responded_at is None

    def test_csat_range_is_one_to_five(self, client):
        invitation = SurveyInvitationFactory(kind="csat")
        url = reverse("winback:survey-answer", args=[invitation.token])
        assert client.post(url, {"score": "0"}).status_code == 400
        assert b"from 1 to 5" in client.post(url, {"score": "6"}).content
        assert client.post(url, {"score": "5"}).status_code == 302


class TestManagerOnlyActions:
    """Configuring (campaigns, release notes, naming clusters, "you told us" messages) is for managers."""

    def _urls(self, cluster, theme, campaign):
        return [
            (reverse("winback:campaign-create"), {"name": "x", "offer": "pause", "subject": "s", "body": "b",
                                                  "attribution_window_days": "60"}),
            (reverse("winback:release-note-create"), {"title": "Shopify", "reasons": ["missing_integration"]}),
            (reverse("winback:cluster-name", args=[cluster.pk]), {"name": "Shipping"}),
            (reverse("winback:theme-loop", args=[theme.pk]), {"subject": "s", "body": "b"}),
            (reverse("winback:campaign-send", args=[campaign.pk]), {}),
            (reverse("winback:themes-recluster"), {}),
        ]  # fmt: skip

    @pytest.fixture
    def objects(self):
        from tests.winback.factories import CampaignFactory
        from winback.models import ClusterRun, Theme, ThemeCluster

        run = ClusterRun.objects.create(n_clusters=1)
        return (
            ThemeCluster.objects.create(run=run, index=0, top_terms=["ship"]),
            Theme.objects.first(),
            CampaignFactory(),
        )

    def test_csm_and_viewer_are_refused(self, client, csm, viewer, objects):
        from winback.models import Campaign, ReleaseNote

        for user in (csm, viewer):
            client.force_login(user)
            for url, data in self._urls(*objects):
                assert client.post(url, data).status_code == 403, url
        assert Campaign.objects.count() == 1 and not ReleaseNote.objects.exists()

    def test_manager_creates_a_campaign_and_publishes_a_release_note(self, client, manager):
        from winback.models import Campaign

        ChurnRecordFactory(reason=reason("missing_integration"))
        client.force_login(manager)
        response = client.post(
            reverse("winback:campaign-create"),
            {"name": "Price", "offer": "pause", "reasons": ["price"], "subject": "s {{ churn.reason }}",
             "body": "b", "attribution_window_days": "45"},
        )  # fmt: skip
        campaign = Campaign.objects.get(name="Price")
        assert response.status_code == 302 and campaign.attribution_window_days == 45
        assert client.get(reverse("winback:campaign-detail", args=[campaign.pk])).status_code == 200
        response = client.post(reverse("winback:release-note-create"),
                               {"title": "Shopify integration", "reasons": ["missing_integration"]})  # fmt: skip
        assert response.status_code == 302
        assert Campaign.objects.get(release_note__title="Shopify integration").enrollments.count() == 1

    def test_discount_without_code_is_a_form_error(self, client, manager):
        from winback.models import Campaign

        client.force_login(manager)
        client.post(reverse("winback:campaign-create"), {"name": "D", "offer": "discount", "subject": "s", "body": "b",
                                                          "attribution_window_days": "60"})  # fmt: skip
        assert not Campaign.objects.exists()


class TestFollowUpPage:
    def test_owner_follows_up_from_the_feedback_page_teammate_cannot(self, client, csm, teammate, own_account):
        from winback import services

        invitation = SurveyInvitationFactory(contact__account=own_account)
        response = services.survey_answer(token=invitation.token, score=2)
        url = reverse("winback:response-follow-up", args=[response.pk])
        client.force_login(teammate)
        assert client.post(url, {"note": "Called"}).status_code == 403
        client.force_login(csm)
        assert client.post(url, {"note": "Called, sorted"}).status_code == 302
        response.follow_up.refresh_from_db()
        assert response.follow_up.note == "Called, sorted"

    def test_feedback_page_query_count_is_bounded(self, client, manager, django_assert_max_num_queries):
        from tests.factories import SurveyResponseFactory

        client.force_login(manager)
        for _ in range(30):
            SurveyResponseFactory(comment="Too expensive")
        services.page_facts_refresh()
        with django_assert_max_num_queries(30):
            assert client.get(reverse("winback:feedback")).status_code == 200


class TestSurveyFromTheCard:
    def test_owner_sends_a_survey_once_within_the_fatigue_window(self, client, csm, teammate, own_account):
        from tests.factories import ContactFactory
        from winback.models import SurveyInvitation

        ContactFactory(account=own_account, is_primary=True)
        url = reverse("winback:account-survey", args=[own_account.pk])
        client.force_login(teammate)
        assert client.post(url).status_code == 403
        client.force_login(csm)
        assert client.post(url).status_code == 302
        client.post(url)
        assert SurveyInvitation.objects.count() == 1


class TestSurveyApi:
    def test_invite_returns_the_link_once_and_refuses_a_fatigued_contact(self, client, csm, own_account):
        from tests.factories import ContactFactory

        contact = ContactFactory(account=own_account)
        client.force_login(csm)
        url = reverse("api:survey-invitation-list")
        created = client.post(url, {"contact": contact.pk, "kind": "nps", "send_email": False},
                              content_type="application/json")  # fmt: skip
        assert created.status_code == 201, created.content
        assert "/survey/" in created.json()["url"]
        assert "url" not in client.get(url).json()["results"][0]
        again = client.post(url, {"contact": contact.pk, "kind": "csat"}, content_type="application/json")
        assert again.status_code == 409

    def test_teammate_cannot_survey_my_contacts(self, client, teammate, own_account):
        from tests.factories import ContactFactory

        contact = ContactFactory(account=own_account)
        client.force_login(teammate)
        response = client.post(reverse("api:survey-invitation-list"), {"contact": contact.pk, "kind": "nps"},
                               content_type="application/json")  # fmt: skip
        assert response.status_code == 403
