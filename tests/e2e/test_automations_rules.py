"""Browser: a manager builds a rule in the UI, dry-runs it, enables it; the task appears for the account's owner."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from accounts.models import Task
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("E2E_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_build_dry_run_enable_and_see_the_task_for_the_owner(live_server, login, page):
    UserFactory(username="mia", role="Manager")
    casey = UserFactory(username="casey", first_name="Casey", role="CSM")
    AccountFactory(owner=casey, name="Lowco Mail", health_score=42, segment="smb")
    AccountFactory(owner=casey, name="Healthy Co", health_score=91, segment="smb")

    login("mia")
    page.get_by_role("link", name="Automations", exact=True).click()
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill("Health below 70")
    page.get_by_label("Key").fill("health-below-70")
    page.get_by_label("Condition 1", exact=True).select_option("health_below")
    page.get_by_label("Parameters of condition 1").fill("value=70")
    page.get_by_label("Action 1", exact=True).select_option("create_task")
    page.get_by_label("Parameters of action 1").fill("title=Follow up: health of {{ account.name }}; due_in_days=3")

    page.get_by_role("button", name="Dry run").click()
    dry = page.locator("#dry-run")
    expect(dry.locator("#dry-run-total")).to_have_text("1")
    expect(dry.get_by_text("Lowco Mail")).to_be_visible()
    expect(dry.get_by_text("Healthy Co")).to_have_count(0)
    _shot(page, "rule-editor-dry-run")
    assert not Task.objects.exists()  # a dry run changes nothing

    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("heading", name=re.compile("Health below 70"))).to_be_visible()
    expect(page.locator("#rule-state")).to_have_text("Disabled")
    page.get_by_role("button", name="Enable").click()
    expect(page.locator("#rule-state")).to_have_text("Enabled")
    page.get_by_role("link", name="Run now…").click()
    # A second look first: how many accounts the run touches.
    expect(page.locator("#run-now-matching")).to_have_text("1")
    assert not Task.objects.exists()
    page.get_by_role("button", name="Run for 1 account").click()
    expect(page.get_by_text("fired for 1 account")).to_be_visible()
    log = page.locator("table").last
    expect(log.get_by_role("link", name="Lowco Mail")).to_be_visible()
    expect(log.get_by_text(re.compile(r"Task #\d+ “Follow up: health of Lowco Mail”"))).to_be_visible()
    expect(log.get_by_text("Health score:")).to_be_visible()
    _shot(page, "rule-detail-log")

    page.get_by_role("button", name="Log out").click()
    login("casey")
    expect(page.get_by_text("Follow up: health of Lowco Mail")).to_be_visible()  # My day: the owner's open tasks
    _shot(page, "owner-my-day")
    page.goto(f"{live_server.url}/accounts/{Task.objects.get().account_id}/")
    expect(page.locator("#account-automations")).to_be_visible()
    _shot(page, "customer-360")
