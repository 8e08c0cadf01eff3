"""Browser: a dissatisfied contact names the issue on the public survey page and the person that issue type routes
to sees the high-priority task; an owner pauses an account from the cancel page instead of cancelling it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Subscription
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, UserFactory
from winback import services
from winback.models import ChurnRecord, IssueRoute

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_issue_type_chosen_on_the_survey_page_routes_the_task(live_server, page, login):
    owner = UserFactory(username="casey", role="CSM")
    billing = UserFactory(username="bea", first_name="Bea", role="Manager")
    UserFactory(username="mia", role="Manager")
    account = AccountFactory(owner=owner, name="Acme Mail")
    contact = ContactFactory(account=account, name="Dana Reyes", email="dana@acme.example", is_primary=True)
    invitation = services.survey_invite(contact=contact, kind="csat")

    # A manager routes billing issues to Bea, due in one day, on the Feedback page.
    login("mia")
    page.goto(f"{live_server.url}/winback/feedback/#routing")
    page.get_by_label("Person for Billing or price").select_option(str(billing.pk))
    page.get_by_label("Days for Billing or price").fill("1")
    page.locator("#routing tr", has_text="Billing or price").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Dissatisfied answers about billing or price")).to_be_visible()
    route = IssueRoute.objects.get(issue_type="billing")
    assert (route.assignee, route.sla_days) == (billing, 1)
    page.get_by_role("button", name="Log out").click()

    page.goto(f"{live_server.url}/survey/{invitation.token}/")
    page.locator("label.score", has_text=re.compile(r"^2$")).click()
    page.get_by_label(re.compile("what was it mostly about")).select_option("billing")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()

    login("bea")
    task = page.locator("li", has_text="(billing or price)")
    expect(task.first).to_be_visible()
    expect(task.first).to_contain_text(re.compile("High", re.IGNORECASE))
    page.wait_for_load_state("networkidle")


def test_owner_pauses_instead_of_cancelling(live_server, page, login):
    owner = UserFactory(username="casey", role="CSM")
    account = AccountFactory(owner=owner, name="Acme Mail")
    SubscriptionFactory(account=account, product="Growth", start_date=timezone.localdate() - dt.timedelta(days=200))
    resume = timezone.localdate() + dt.timedelta(days=45)

    login("casey")
    page.goto(f"{live_server.url}/winback/accounts/{account.pk}/cancel/")
    expect(page.get_by_role("heading", name="Pause instead of cancelling")).to_be_visible()
    page.get_by_label("Resume on").fill((timezone.localdate() + dt.timedelta(days=200)).isoformat())
    page.get_by_role("button", name="Pause the subscriptions").click()
    expect(page.locator(".errorlist")).to_contain_text("at most 92 days")  # too long: a clear message
    page.get_by_label("Resume on").fill(resume.isoformat())
    page.get_by_role("button", name="Pause the subscriptions").click()
    expect(page.get_by_text(f"paused until {resume:%Y-%m-%d}").first).to_be_visible()
    page.wait_for_load_state("networkidle")  # the Customer 360 sections load before the test ends
    assert Subscription.objects.filter(account=account, status="paused", end_date=resume).exists()
    assert not ChurnRecord.objects.exists()
