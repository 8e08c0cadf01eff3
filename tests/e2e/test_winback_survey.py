"""Browser: a contact answers a survey through the public link as a detractor; the owner sees the high-priority
task; a manager sees the answer in the NPS data (feedback page and the dashboards' NPS KPI)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import SurveyResponse
from tests.factories import AccountFactory, ContactFactory, UserFactory
from winback import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_detractor_answer_reaches_owner_task_and_manager_nps(live_server, page, login):
    owner = UserFactory(username="casey", first_name="Casey", role="CSM")
    UserFactory(username="mia", role="Manager")
    account = AccountFactory(owner=owner, name="Acme Mail")
    contact = ContactFactory(account=account, name="Dana Reyes", email="dana@acme.example", is_primary=True)
    invitation = services.survey_invite(contact=contact, kind="nps")
    link = f"{live_server.url}/survey/{invitation.token}/"

    # The contact, on a phone, without logging in.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(link)
    expect(page.get_by_role("heading", name=re.compile("recommend"))).to_be_visible()
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a score")  # nothing chosen: a clear message
    page.locator("label.score", has_text=re.compile(r"^3$")).click()
    page.get_by_label(re.compile("main reason")).fill("Exports keep failing and support is slow.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.get_by_text("within two working days")).to_be_visible()
    assert SurveyResponse.objects.get().score == 3

    # The link is single-use: a second visit gets a friendly page and records nothing.
    page.goto(link)
    expect(page.get_by_role("heading", name=re.compile("already answered"))).to_be_visible()
    assert SurveyResponse.objects.count() == 1

    # The owner sees the high-priority task on My day, due in two days.
    page.set_viewport_size({"width": 1400, "height": 1000})
    login("casey")
    task = page.locator("li", has_text="Detractor: NPS 3 from Dana Reyes")
    expect(task.first).to_be_visible()
    expect(task.first).to_contain_text(re.compile("High", re.IGNORECASE))
    page.get_by_role("button", name="Log out").click()

    # A manager sees the answer in the NPS data.
    login("mia")
    page.get_by_role("link", name="Win-back").click()
    page.get_by_role("link", name=re.compile("Feedback")).click()
    expect(page.locator("#nps-value")).to_have_text("-100.0")
    expect(page.locator("#answers")).to_contain_text("Exports keep failing")
    expect(page.locator("#answers")).to_contain_text("Acme Mail")
    today = timezone.localdate()
    kpi = page.request.get(
        f"{live_server.url}/api/v1/kpis/nps/?start={today.isoformat()}&end={(today + dt.timedelta(days=1)).isoformat()}"
    )
    assert kpi.ok, kpi.text()
    body = kpi.json()
    assert (body["n_responses"], body["n_detractors"], body["nps"]) == (1, 1, -100.0)
