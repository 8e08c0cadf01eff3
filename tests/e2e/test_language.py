"""The interface language, as a person meets it: the browser's language by default, a switch in the sidebar, and a
choice that follows the person to their next login on another browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def test_a_csm_switches_to_italian_then_bulgarian_and_the_choice_follows_them(live_server, login, page):
    casey = UserFactory(username="casey", first_name="Casey", role="CSM")
    AccountFactory(owner=casey, name="Acme Mail")

    login("casey")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    sidebar = page.get_by_role("navigation", name="Main")
    expect(sidebar.get_by_role("link", name="My day")).to_be_visible()

    page.get_by_label("Language").select_option("it")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    sidebar = page.get_by_role("navigation", name="Principale")
    expect(sidebar.get_by_role("link", name="La mia giornata")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^(Buongiorno|Buon pomeriggio), Casey$"))

    sidebar.get_by_role("link", name="I miei account").click()
    expect(page.get_by_role("link", name="Acme Mail")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    # Text written by the page's script speaks the page's language too.
    counter = page.locator("[data-selected-count]")
    expect(counter).to_have_text("Selezionati: 0")
    page.locator("input[name=accounts]").first.check()
    expect(counter).to_have_text("Selezionati: 1")

    # Another browser, nothing remembered in it: the stored choice comes back at login.
    page.context.clear_cookies()
    login("casey")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("link", name="La mia giornata")).to_be_visible()

    page.get_by_label("Lingua").select_option("bg")
    page.get_by_role("button", name="Cambia").click()
    expect(page.locator("html")).to_have_attribute("lang", "bg")
    expect(page.get_by_role("link", name="Моят ден")).to_be_visible()
    expect(page.get_by_role("button", name="Изход")).to_be_visible()


def test_a_person_without_a_choice_gets_the_browsers_language(live_server, browser):
    UserFactory(username="dana", role="Manager")
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    page.get_by_label("Nome utente").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("link", name="La mia giornata")).to_be_visible()
    context.close()
