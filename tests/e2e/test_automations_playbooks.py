"""Browser: a manager builds a playbook with two steps in the UI and enrols an account from its Customer 360."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Task
from automations.models import Enrolment, Playbook
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("E2E_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_build_a_playbook_with_two_steps_and_enrol_an_account(live_server, login, page):
    UserFactory(username="mia", role="Manager")
    casey = UserFactory(username="casey", first_name="Casey", role="CSM")
    account = AccountFactory(owner=casey, name="Acme Mail", segment="smb")

    login("mia")
    page.get_by_role("link", name="Automations", exact=True).click()
    page.get_by_role("navigation", name="Automations").get_by_role("link", name="Playbooks").click()
    page.get_by_role("link", name="New playbook").click()
    page.get_by_label("Name").fill("Kick-off")
    page.get_by_label("Key").fill("kick-off")
    page.get_by_label("Step 1", exact=True).select_option("task")
    page.get_by_label("Parameters of step 1").fill("title=Kick-off call with {{ account.name }}; due_in_days=2")
    page.get_by_label("Step 2", exact=True).select_option("wait")
    page.get_by_label("Parameters of step 2").fill("days=soon")
    page.get_by_role("button", name="Save playbook").click()
    expect(page.get_by_role("alert")).to_contain_text("Step 2 (wait): wait a number of days")  # shown in the form
    assert not Playbook.objects.exists()
    page.get_by_label("Parameters of step 2").fill("days=7")
    page.get_by_role("button", name="Save playbook").click()

    expect(page.get_by_role("heading", name="Kick-off", exact=True)).to_be_visible()
    steps = page.locator("ol.auto-steps li")
    expect(steps).to_have_count(2)
    expect(steps.nth(0)).to_contain_text("Kick-off call with {{ account.name }}")
    expect(steps.nth(1)).to_contain_text("7 days")
    _shot(page, "playbook-detail")

    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    section = page.locator("#account-automations")
    section.get_by_label("Enrol in playbook").select_option(label="Kick-off")
    section.get_by_role("button", name="Enrol").click()
    enrolment = page.locator("#account-automations .auto-enrolment")
    expect(enrolment).to_contain_text("Kick-off")
    expect(enrolment.get_by_role("list", name="Steps of Kick-off").locator("li")).to_have_count(2)
    _shot(page, "customer-360-enrolment")
    assert Enrolment.objects.get().account_id == account.pk

    page.goto(f"{live_server.url}/automations/playbooks/")
    expect(page.locator("table").last.get_by_role("link", name="Acme Mail")).to_be_visible()  # active enrolments
    # The first step ran at enrolment: a task for the account's owner.
    task = Task.objects.get(account=account)
    assert task.title == "Kick-off call with Acme Mail" and task.assignee == casey
    enrolled = Enrolment.objects.get()
    assert enrolled.status == "active" and enrolled.next_run_at > timezone.now() + dt.timedelta(days=6)  # waiting
