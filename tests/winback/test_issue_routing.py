"""Dissatisfied answers: issue type asked on the survey page or derived from the comment's theme, the task routed
to the configured person or role (else the owner), due per SLA, one reminder when overdue."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.models import Task, TaskPriority
from messaging.models import EmailMessage, Notification
from tests.factories import ContactFactory, TaskFactory, UserFactory
from tests.winback.factories import SurveyInvitationFactory
from winback import services
from winback.models import IssueRoute, ResponseFollowUp

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 6, 2)  # a Monday


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2025, 6, 2, 10, tzinfo=dt.UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def contact(own_account):
    return ContactFactory(account=own_account, is_primary=True, name="Dana Reyes")


def answer(contact, score=3, comment="", issue_type="", kind="nps"):
    invitation = SurveyInvitationFactory(contact=contact, kind=kind)
    return services.survey_answer(token=invitation.token, score=score, comment=comment, issue_type=issue_type)


class TestIssueType:
    def test_the_issue_type_chosen_on_the_page_is_kept(self, contact):
        response = answer(contact, issue_type="billing", comment="The onboarding was confusing")
        follow_up = ResponseFollowUp.objects.get(response=response)
        assert (follow_up.issue_type, follow_up.issue_type_source) == ("billing", "asked")
        assert "(billing or price)" in follow_up.task.title

    def test_without_a_choice_the_comment_theme_gives_it(self, contact):
        response = answer(contact, comment="Nobody helped with the setup, very confusing")
        assert (response.follow_up.issue_type, response.follow_up.issue_type_source) == ("onboarding", "theme")

    def test_no_choice_and_no_theme_leaves_it_empty_and_the_owner_follows_up(self, contact, csm):
        response = answer(contact, comment="meh")
        assert response.follow_up.issue_type == "" and response.follow_up.task.assignee == csm

    def test_an_unknown_issue_type_is_refused_and_nothing_recorded(self, contact):
        with pytest.raises(ValueError):
            answer(contact, issue_type="nope")
        assert not ResponseFollowUp.objects.exists()


class TestRouting:
    def test_routes_to_the_configured_person_with_the_sla_of_the_issue_type(self, contact, csm):
        billing_lead = UserFactory(username="billing", role="Manager")
        IssueRoute.objects.create(issue_type="billing", assignee=billing_lead, sla_days=1)
        task = answer(contact, issue_type="billing").follow_up.task
        assert (task.assignee, task.priority, task.due_date) == (
            billing_lead,
            TaskPriority.HIGH,
            TODAY + dt.timedelta(1),
        )
        assert ResponseFollowUp.objects.get().sla_due_on == TODAY + dt.timedelta(days=1)

    def test_routes_to_the_least_loaded_member_of_the_role(self, contact):
        busy, free = UserFactory(username="busy", role="CSM"), UserFactory(username="free", role="CSM")
        TaskFactory(assignee=busy)
        Group.objects.get(name="CSM").user_set.remove(contact.account.owner)
        IssueRoute.objects.create(issue_type="support", role="CSM", sla_days=3)
        task = answer(contact, issue_type="support").follow_up.task
        assert task.assignee == free and task.due_date == TODAY + dt.timedelta(days=3)

    def test_an_inactive_assignee_or_empty_role_falls_back_to_the_owner(self, contact, csm):
        gone = UserFactory(username="gone", is_active=False)
        IssueRoute.objects.create(issue_type="product", assignee=gone, role="Nobody", sla_days=4)
        task = answer(contact, issue_type="product").follow_up.task
        assert task.assignee == csm and task.due_date == TODAY + dt.timedelta(days=4)

    def test_passives_and_promoters_are_not_routed_by_issue_type(self, contact, csm):
        IssueRoute.objects.create(issue_type="billing", assignee=UserFactory(username="b"), sla_days=1)
        task = answer(contact, score=8, issue_type="billing").follow_up.task
        assert task.assignee == csm and task.priority == TaskPriority.NORMAL


class TestOverdueReminder:
    def test_one_reminder_to_assignee_and_owner_once_the_sla_date_passed(
        self, contact, csm, _frozen, django_capture_on_commit_callbacks
    ):
        lead = UserFactory(username="lead", role="Manager", email="lead@example.com")
        IssueRoute.objects.create(issue_type="billing", assignee=lead, sla_days=2)
        answer(contact, issue_type="billing")
        _frozen.shift(dt.timedelta(days=2))
        assert services.follow_ups_remind_overdue() == 0  # due today: not overdue yet
        _frozen.shift(dt.timedelta(days=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert services.follow_ups_remind_overdue() == 1
        assert services.follow_ups_remind_overdue() == 0
        notes = Notification.objects.all()
        assert {n.user for n in notes} == {lead, csm}
        assert all(n.title.startswith("Overdue: Detractor") and "1 day late" in n.body for n in notes)
        assert EmailMessage.objects.filter(to_email="lead@example.com", source="notification").count() == 1

    def test_followed_up_or_done_tasks_get_no_reminder(self, contact, csm, _frozen):
        first = answer(contact)
        other = ContactFactory(account=contact.account)
        second = answer(other)
        services.response_follow_up(response=first, actor=csm, note="Called")
        second.follow_up.task.status = "done"
        second.follow_up.task.save()
        _frozen.shift(dt.timedelta(days=5))
        assert services.follow_ups_remind_overdue() == 0


class TestSurveyPage:
    def test_the_page_asks_the_issue_type_and_routes_by_it(self, client, contact):
        IssueRoute.objects.create(issue_type="missing_feature", assignee=UserFactory(username="pm"), sla_days=5)
        invitation = SurveyInvitationFactory(contact=contact)
        url = reverse("winback:survey-answer", args=[invitation.token])
        assert b'name="issue_type"' in client.get(url).content
        assert client.post(url, {"score": "2", "issue_type": "missing_feature"}).status_code == 302
        task = Task.objects.get()
        assert task.assignee.username == "pm" and task.due_date == timezone.localdate() + dt.timedelta(days=5)

    def test_an_unknown_issue_type_is_a_form_error(self, client, contact):
        invitation = SurveyInvitationFactory(contact=contact)
        url = reverse("winback:survey-answer", args=[invitation.token])
        response = client.post(url, {"score": "2", "issue_type": "bogus"})
        assert response.status_code == 400 and b"errorlist" in response.content
        assert not Task.objects.exists()


class TestRoutingSettings:
    def test_manager_sets_a_route_on_the_feedback_page_and_it_applies(self, client, manager, contact):
        lead = UserFactory(username="lead", role="CSM")
        client.force_login(manager)
        page = client.get(reverse("winback:feedback")).content.decode()
        assert 'id="routing"' in page and 'form="route-billing"' in page
        response = client.post(
            reverse("winback:issue-route-save"),
            {"issue_type": "billing", "assignee": lead.pk, "role": "", "sla_days": "3"},
        )
        assert response.status_code == 302
        route = IssueRoute.objects.get(issue_type="billing")
        assert (route.assignee, route.sla_days) == (lead, 3)
        task = answer(contact, issue_type="billing").follow_up.task
        assert task.assignee == lead and task.due_date == TODAY + dt.timedelta(days=3)

    @pytest.mark.parametrize(
        "body",
        [
            {"issue_type": "billing", "sla_days": "0"},
            {"issue_type": "billing", "sla_days": "abc"},
            {"issue_type": "nope", "sla_days": "2"},
            {"issue_type": "billing", "sla_days": "2", "role": "Viewer"},
            {"issue_type": "billing", "sla_days": "2", "assignee": "999999"},
        ],
    )
    def test_bad_input_is_a_form_error_and_nothing_is_saved(self, client, manager, body):
        client.force_login(manager)
        response = client.post(reverse("winback:issue-route-save"), body)
        assert response.status_code == 400 and b"errorlist" in response.content
        assert not IssueRoute.objects.exists()

    def test_csm_may_not_configure_routing(self, client, csm):
        client.force_login(csm)
        response = client.post(reverse("winback:issue-route-save"), {"issue_type": "billing", "sla_days": "2"})
        assert response.status_code == 403 and not IssueRoute.objects.exists()
        assert 'id="routing"' not in client.get(reverse("winback:feedback")).content.decode()
