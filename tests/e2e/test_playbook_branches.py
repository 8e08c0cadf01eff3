"""Browser: a manager builds a branching playbook in the editor (a wait until the kick-off task is completed, then
a branch on the health band), enrols two accounts that go different ways, the worker's advance runs, and the
playbook page shows the flow and each enrolment's path."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Task
from automations import playbooks
from automations.models import Enrolment, Playbook
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("E2E_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _enrol(page, live_server, account) -> None:
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    section = page.locator("#account-automations")
    section.get_by_label("Enrol in playbook").select_option(label="Kick-off triage")
    section.get_by_role("button", name="Enrol").click()
    expect(page.locator("#account-automations .auto-enrolment")).to_contain_text("Kick-off triage")


def test_build_a_branching_playbook_and_follow_each_enrolment_down_its_path(live_server, login, page):
    UserFactory(username="mia", role="Manager")
    casey = UserFactory(username="casey", first_name="Casey", role="CSM")
    red = AccountFactory(owner=casey, name="Redwood Labs", health_band="red")
    green = AccountFactory(owner=casey, name="Greenfield Co", health_band="green")

    login("mia")
    page.goto(f"{live_server.url}/automations/playbooks/new/")
    page.get_by_label("Name").fill("Kick-off triage")
    page.get_by_label("Key").fill("kick-off-triage")
    page.get_by_label("Step 1", exact=True).select_option("task")
    page.get_by_label("Parameters of step 1").fill("title=Kick-off call with {{ account.name }}; due_in_days=2")
    page.get_by_label("Step 2", exact=True).select_option("wait")
    page.get_by_label("Parameters of step 2").fill("days=3")
    page.get_by_label("Until (step 2)").fill("condition=task_outcome; outcome=completed; step=1")
    page.get_by_label("Step 3", exact=True).select_option("branch")
    page.get_by_label("Parameters of step 3").fill("condition=health_band; in=red; reason=Healthy: no escalation")
    page.get_by_label("Then (step 3)").select_option("3")  # to itself: refused on the field
    page.get_by_label("Else (step 3)").select_option("stop")
    page.get_by_label("Step 4", exact=True).select_option("task")
    page.get_by_label("Parameters of step 4").fill("title=Escalate {{ account.name }}; priority=high")
    page.get_by_role("button", name="Save playbook").click()
    expect(page.get_by_role("alert")).to_contain_text("Step 3 (branch): 'then' routes the step to itself.")
    assert not Playbook.objects.exists()
    _shot(page, "playbook-branch-error")
    page.get_by_label("Then (step 3)").select_option("next")
    page.get_by_role("button", name="Save playbook").click()

    expect(page.get_by_role("heading", name="Kick-off triage", exact=True)).to_be_visible()
    flow = page.locator("svg.playbook-flow")
    expect(flow.locator("g.flow-step")).to_have_count(4)
    expect(flow).to_contain_text("if health_band in=red")
    expect(flow.locator("g.flow-stop")).to_have_count(1)  # the branch's else exit
    steps = page.locator("ol.auto-steps li")
    expect(steps.nth(1)).to_contain_text("or until")
    expect(steps.nth(2)).to_contain_text("then → next, else → stop")

    _enrol(page, live_server, red)
    _enrol(page, live_server, green)
    assert Task.objects.filter(title__startswith="Kick-off call with").count() == 2  # step 1 ran at enrolment
    # Greenfield's CSM completes the kick-off call; the worker's periodic advance sees it at its next check.
    Task.objects.filter(account=green).update(status="done", completed_at=timezone.now())
    playbooks.enrolments_advance_due(now=timezone.now() + playbooks.UNTIL_RECHECK + dt.timedelta(minutes=1))
    assert Enrolment.objects.get(account=green).status == "stopped"
    assert Enrolment.objects.get(account=red).status == "active"  # still waiting for its call
    playbooks.enrolments_advance_due(now=timezone.now() + dt.timedelta(days=3, minutes=1))  # Redwood: timed out
    assert Task.objects.get(account=red, title__startswith="Escalate").title == "Escalate Redwood Labs"

    page.goto(f"{live_server.url}/automations/playbooks/{Playbook.objects.get().pk}/")
    rows = page.locator("tr.playbook-enrolment")
    red_row, green_row = rows.filter(has_text="Redwood Labs"), rows.filter(has_text="Greenfield Co")
    expect(green_row.locator(".playbook-path")).to_have_text("1 → 2 condition held → 3 else")
    expect(green_row).to_contain_text("Healthy: no escalation")
    expect(red_row.locator(".playbook-path")).to_have_text("1 → 2 timed out → 3 then → 4")
    expect(red_row).to_contain_text("Completed")
    flow = page.locator("svg.playbook-flow")
    expect(flow).to_contain_text("then · 1")
    expect(flow).to_contain_text("else · 1")
    paths = page.locator("#playbook-paths tbody tr")
    expect(paths).to_have_count(2)
    _shot(page, "playbook-paths")
