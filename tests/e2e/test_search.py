"""The top bar's search, as a CSM uses it: "/" to focus, type, read the grouped results, open one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, ContactFactory, SupportTicketFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_slash_focuses_the_search_and_a_partial_email_finds_the_contact(live_server, login):
    UserFactory(username="casey", role="CSM")
    acme = AccountFactory(name="Acme Mail")
    ContactFactory(account=acme, name="Priya Raman", email="priya.raman@acme.example")
    SupportTicketFactory(account=acme, subject="Raman cannot export invoices")
    AccountFactory(name="Globex Newsletters")

    page = login("casey")
    page.keyboard.press("/")
    box = page.locator("#global-search")
    expect(box).to_be_focused()
    box.press_sequentially("raman@ac", delay=120)
    results = page.locator("#global-search-results")
    expect(results.get_by_role("heading", name="Contacts")).to_be_visible()
    expect(results.get_by_role("link", name="Priya Raman")).to_be_visible()
    expect(results.get_by_text("Globex Newsletters")).to_have_count(0)

    box.press("Escape")
    expect(results).to_be_empty()
    box.fill("")
    box.press_sequentially("raman", delay=120)
    expect(results.get_by_role("heading", name="Tickets")).to_be_visible()
    results.get_by_role("link", name="Priya Raman").click()
    page.wait_for_url(f"{live_server.url}/accounts/{acme.pk}/")
    expect(page.get_by_role("heading", name="Acme Mail")).to_be_visible()


def test_the_full_results_page(live_server, login):
    UserFactory(username="casey", role="CSM")
    AccountFactory(name="Acme Mail")
    page = login("casey")
    page.goto(f"{live_server.url}/search/?q=acme")
    expect(page.locator("#search-results").get_by_role("link", name="Acme Mail")).to_be_visible()
    page.goto(f"{live_server.url}/search/?q=zzzqqq")
    expect(page.get_by_text("Nothing matches “zzzqqq”.")).to_be_visible()
