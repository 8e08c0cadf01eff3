from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Activity
from tests.factories import AccountFactory, ActivityFactory, SubscriptionFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_csm_filters_opens_customer_360_and_adds_a_note(live_server, login):
    csm = UserFactory(username="casey", first_name="Casey", role="CSM")
    acme = AccountFactory(owner=csm, name="Acme Mail", status="at_risk", mrr=420)
    SubscriptionFactory(account=acme, product="growth")
    ActivityFactory(account=acme, body="Kick-off call went well.")
    for i in range(5):
        AccountFactory(owner=csm, name=f"Other Co {i}", status="active")

    page = login("casey")
    expect(page.get_by_role("heading", name=re.compile("Casey"))).to_be_visible()
    expect(page.get_by_text("Acme Mail")).to_be_visible()  # at-risk list on My day

    page.get_by_role("link", name="Accounts", exact=True).click()
    table = page.locator("#account-table")
    expect(table.get_by_text("Other Co 3")).to_be_visible()
    page.get_by_label("Search", exact=True).fill("acme")
    expect(table.get_by_text("Other Co 3")).to_have_count(0)  # table swapped in place by htmx
    expect(page).to_have_url(re.compile(r"q=acme"))  # the URL keeps the filter
    expect(page.locator("#account-count")).to_have_text("1 account")

    table.get_by_role("link", name="Acme Mail").click()
    expect(page.get_by_role("heading", name=re.compile("Acme Mail"))).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline.get_by_text("Kick-off call went well.")).to_be_visible()

    timeline.get_by_label("Note").fill("Champion is leaving in March; find a new sponsor.")
    timeline.get_by_role("button", name="Add to timeline").click()
    expect(timeline.locator(".timeline-note").first).to_contain_text("Champion is leaving in March")
    assert Activity.objects.filter(account=acme, author=csm, body__startswith="Champion").count() == 1

    page.go_back()
    expect(page).to_have_url(re.compile(r"q=acme"))


def test_back_button_restores_the_filtered_list(live_server, login):
    UserFactory(username="mia", role="Manager")
    AccountFactory(name="Acme Mail", status="at_risk")
    AccountFactory(name="Globex", status="active")
    page = login("mia")
    page.goto(f"{live_server.url}/accounts/")
    page.locator("#id_status").select_option("at_risk")
    expect(page.locator("#account-table").get_by_text("Globex")).to_have_count(0)
    page.get_by_label("Search", exact=True).fill("zzz")
    expect(page.locator("#account-count")).to_have_text("0 accounts")
    page.go_back()
    expect(page.locator("#account-table").get_by_text("Acme Mail")).to_be_visible()


def test_a_task_that_lands_while_my_day_is_open_appears_without_a_reload(live_server, login):
    from accounts.services import task_create

    csm = UserFactory(username="casey", first_name="Casey", role="CSM")
    acme = AccountFactory(owner=csm, name="Acme Mail")
    page = login("casey")
    tasks = page.locator("#my-tasks")
    expect(tasks.get_by_text("No open tasks")).to_be_visible()
    page.evaluate("window.__marker = 'same page'")  # gone if the page reloaded
    task_create(account=acme, title="Health fell: call Acme Mail", created_by=None, assignee=csm)  # a rule's task
    expect(tasks.get_by_text("Health fell: call Acme Mail")).to_be_visible(timeout=25_000)
    expect(page.locator("#my-task-counts")).to_have_text("(1 open)")
    assert page.evaluate("window.__marker") == "same page"
