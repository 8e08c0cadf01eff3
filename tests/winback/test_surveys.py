"""Survey schedules, sampling, the fatigue limit, tokens, reminders and routing per category."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import SurveyResponse, Task, TaskPriority
from messaging.models import EmailMessage
from tests.factories import (
    AccountFactory,
    ContactFactory,
    SubscriptionFactory,
    SupportTicketFactory,
    SurveyResponseFactory,
)
from tests.winback.factories import SurveyInvitationFactory
from winback import services
from winback.models import ResponseFollowUp, SurveyInvitation, SurveySchedule
from winback.services.surveys import SurveyTokenError

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(own_account):
    return ContactFactory(account=own_account, is_primary=True, name="Dana Reyes")


class TestInvitation:
    def test_invitation_emails_a_tokenised_link_through_the_outbox(self, contact):
        invitation = services.survey_invite(contact=contact, kind="nps")
        message = EmailMessage.objects.get()
        assert message.source == "survey" and message.contact == contact
        assert f"/survey/{invitation.token}/" in message.body_text
        assert "Dana" in message.subject
        assert invitation.sent_at is not None and invitation.email_status == "queued"

    def test_contact_is_not_surveyed_twice_within_90_days(self, contact):
        now = timezone.now()
        assert services.survey_invite(contact=contact, kind="nps", now=now - dt.timedelta(days=80)) is not None
        assert services.survey_invite(contact=contact, kind="csat", now=now) is None
        assert services.survey_invite(contact=contact, kind="nps", now=now + dt.timedelta(days=11)) is not None

    def test_an_answer_from_another_source_counts_for_fatigue(self, contact):
        SurveyResponseFactory(account=contact.account, contact=contact, responded_at=timezone.now())
        assert services.survey_invite(contact=contact, kind="nps") is None

    def test_unsubscribed_contact_gets_no_email_and_is_not_counted_as_surveyed(self, contact):
        contact.unsubscribed = True
        contact.save()
        invitation = services.survey_invite(contact=contact, kind="nps")
        assert invitation.email_status == "suppressed" and invitation.sent_at is None
        assert EmailMessage.objects.get().status == "suppressed"


class TestToken:
    def test_token_answers_once(self, contact):
        invitation = SurveyInvitationFactory(contact=contact)
        services.survey_answer(token=invitation.token, score=9)
        with pytest.raises(SurveyTokenError) as exc:
            services.survey_answer(token=invitation.token, score=2)
        assert exc.value.reason == "used"
        assert SurveyResponse.objects.get().score == 9

    def test_expired_token_records_nothing(self, contact):
        invitation = SurveyInvitationFactory(contact=contact, expires_at=timezone.now() - dt.timedelta(seconds=1))
        with pytest.raises(SurveyTokenError) as exc:
            services.survey_answer(token=invitation.token, score=5)
        assert exc.value.reason == "expired"
        assert not SurveyResponse.objects.exists()

    @pytest.mark.parametrize(("kind", "score"), [("nps", 11), ("nps", -1), ("csat", 0), ("csat", 6)])
    def test_out_of_range_score_is_rejected_and_the_token_stays_open(self, contact, kind, score):
        invitation = SurveyInvitationFactory(contact=contact, kind=kind)
        with pytest.raises(ValueError):
            services.survey_answer(token=invitation.token, score=score)
        invitation.refresh_from_db()
        assert invitation.responded_at is None and not SurveyResponse.objects.exists()


class TestRouting:
    def _answer(self, contact, score, kind="nps", comment=""):
        invitation = SurveyInvitationFactory(contact=contact, kind=kind)
        return services.survey_answer(token=invitation.token, score=score, comment=comment)

    def test_detractor_gets_a_high_priority_owner_task_due_in_two_days(self, contact, csm):
        response = self._answer(contact, 4, comment="Support is slow")
        task = Task.objects.get()
        assert (task.priority, task.assignee, task.due_date) == (
            TaskPriority.HIGH, csm, timezone.localdate() + dt.timedelta(days=2)
        )  # fmt: skip
        assert "Support is slow" in task.description
        assert response.follow_up.sla_due_on == task.due_date

    def test_passive_gets_a_normal_task_for_the_csm(self, contact, csm):
        self._answer(contact, 7)
        task = Task.objects.get()
        assert (task.priority, task.assignee) == (TaskPriority.NORMAL, csm)
        assert ResponseFollowUp.objects.get().sla_due_on is None

    def test_promoter_is_tagged_advocate_and_asked_for_a_review_when_configured(
        self, contact, settings, django_capture_on_commit_callbacks
    ):
        settings.WINBACK_REVIEW_URL = "https://reviews.example/acme"
        with django_capture_on_commit_callbacks(execute=True):
            self._answer(contact, 10)
        assert not Task.objects.exists()
        assert list(contact.account.tags.values_list("name", flat=True)) == ["advocate"]
        review = EmailMessage.objects.get(dedupe_key__startswith="survey-review:")
        assert "https://reviews.example/acme" in review.body_text

    def test_dissatisfied_csat_routes_like_a_detractor(self, contact):
        self._answer(contact, 2, kind="csat")
        assert Task.objects.get().priority == TaskPriority.HIGH

    def test_routing_happens_once(self, contact):
        response = self._answer(contact, 3)
        services.response_route(response=response)
        services.responses_route_new()
        assert Task.objects.count() == 1

    def test_imported_recent_answers_are_routed_old_ones_are_not(self, own_account):
        SurveyResponseFactory(account=own_account, score=2, responded_at=timezone.now() - dt.timedelta(days=1))
        SurveyResponseFactory(account=own_account, score=2, responded_at=timezone.now() - dt.timedelta(days=200))
        assert services.responses_route_new() == 1

    def test_follow_up_closes_the_task_and_counts_within_sla(self, contact, csm, teammate):
        from django.core.exceptions import PermissionDenied

        from winback.selectors.sla import detractor_sla

        response = self._answer(contact, 1)
        with pytest.raises(PermissionDenied):
            services.response_follow_up(response=response, actor=teammate, note="Called")
        services.response_follow_up(response=response, actor=csm, note="Called, fixed their export")
        task = Task.objects.get()
        assert task.status == "done" and task.outcome == "Called, fixed their export"
        sla = detractor_sla()
        assert (sla["total"], sla["within_sla"], sla["rate"]) == (1, 1, 100.0)


class TestSchedules:
    def test_days_after_start_invites_primary_contact_once(self, own_account):
        today = timezone.localdate()
        SubscriptionFactory(account=own_account, start_date=today - dt.timedelta(days=90), mrr=Decimal("50"))
        primary = ContactFactory(account=own_account, is_primary=True)
        ContactFactory(account=own_account)
        SurveySchedule.objects.exclude(trigger="days_after_start").update(is_active=False)
        first = services.survey_schedules_run(today=today)
        again = services.survey_schedules_run(today=today + dt.timedelta(days=1))
        assert first["invited"] == 1 and again["invited"] == 0
        assert SurveyInvitation.objects.get().contact == primary

    def test_ticket_resolved_triggers_csat(self, own_account):
        ContactFactory(account=own_account)
        SupportTicketFactory(account=own_account, status="resolved", resolved_at=timezone.now() - dt.timedelta(hours=3),
                             opened_at=timezone.now() - dt.timedelta(days=1))  # fmt: skip
        SurveySchedule.objects.exclude(trigger="ticket_resolved").update(is_active=False)
        assert services.survey_schedules_run()["invited"] == 1
        assert SurveyInvitation.objects.get().kind == "csat"

    def test_days_before_renewal(self):
        today = timezone.localdate()
        renewing = AccountFactory(renewal_date=today + dt.timedelta(days=60))
        ContactFactory(account=renewing)
        ContactFactory(account=AccountFactory(renewal_date=today + dt.timedelta(days=90)))
        SurveySchedule.objects.exclude(trigger="days_before_renewal").update(is_active=False)
        assert services.survey_schedules_run(today=today)["invited"] == 1
        assert services.survey_schedules_run(today=today)["invited"] == 0
        assert [i.account for i in SurveyInvitation.objects.all()] == [renewing]

    def test_sampling_is_deterministic_and_close_to_the_rate(self):
        today = timezone.localdate()
        AccountFactory()
        services.segment_history_sync(today=today)  # the history has begun: the accounts below enter mid-market
        for _ in range(60):
            account = AccountFactory(segment="mid_market")
            ContactFactory(account=account)
        SurveySchedule.objects.update(is_active=False)
        SurveySchedule.objects.create(name="Half", kind="nps", trigger="segment_entry", segment="mid_market",
                                      sample_rate=0.5)  # fmt: skip
        result = services.survey_schedules_run(today=today)
        assert result["invited"] + result["sampled_out"] == 60
        assert 15 <= result["invited"] <= 45

    def test_reminder_once_to_non_responders_after_the_delay(self, contact):
        now = timezone.now()
        invitation = services.survey_invite(contact=contact, kind="nps", now=now - dt.timedelta(days=4))
        answered = SurveyInvitationFactory(sent_at=now - dt.timedelta(days=4))
        answered.responded_at = now
        answered.save()
        SurveyInvitationFactory(sent_at=now - dt.timedelta(days=1))  # too recent
        assert services.survey_reminders_send(now=now) == 1
        assert services.survey_reminders_send(now=now) == 0
        reminder = EmailMessage.objects.get(dedupe_key=f"survey:{invitation.pk}:reminder")
        assert reminder.subject.startswith("Reminder:") and reminder.status == "queued"
