"""Every `next` a view follows stays on this site: an external one falls back to the view's own page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

EXTERNAL = ["https://evil.example/phish", "//evil.example/", "http:\\\\evil.example", "javascript:alert(1)"]


@pytest.mark.parametrize("next_url", EXTERNAL)
def test_task_complete_ignores_an_external_next(client, csm, own_account, next_url):
    task = TaskFactory(account=own_account, assignee=csm)
    client.force_login(csm)
    response = client.post(reverse("task-complete", args=[task.pk]), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_task_complete_follows_a_local_next(client, csm, own_account):
    task = TaskFactory(account=own_account, assignee=csm)
    client.force_login(csm)
    response = client.post(reverse("task-complete", args=[task.pk]), {"next": "/accounts/?status=active"})
    assert response["Location"] == "/accounts/?status=active"


@pytest.mark.parametrize("next_url", EXTERNAL)
def test_notification_read_ignores_an_external_next(client, csm, next_url):
    client.force_login(csm)
    response = client.post(reverse("messaging:notification-read"), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"


def test_notification_read_follows_a_local_next(client, csm):
    client.force_login(csm)
    response = client.post(reverse("messaging:notification-read"), {"next": "/accounts/"})
    assert response["Location"] == "/accounts/"


@pytest.mark.parametrize("next_url", EXTERNAL)
def test_survey_follow_up_ignores_an_external_next(client, csm, own_account, next_url):
    from tests.winback.factories import SurveyInvitationFactory
    from winback import services

    invitation = SurveyInvitationFactory(contact__account=own_account)
    answer = services.survey_answer(token=invitation.token, score=2)
    client.force_login(csm)
    response = client.post(
        reverse("winback:response-follow-up", args=[answer.pk]), {"note": "Called", "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("winback:feedback")
