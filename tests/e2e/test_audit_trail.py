"""The audit trail as an admin meets it: a CSM changes an account on its page, the admin follows the account's link
to its entries, sees who changed what through which door, narrows by door and downloads what the filters select."""

from __future__ import annotations

import csv
import io
import os

import pytest
from playwright.sync_api import expect

from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_finds_a_csms_change_from_the_account_page_and_exports_it(live_server, login, page, tmp_path):
    casey = UserFactory(username="casey", first_name="Casey", role="CSM")
    UserFactory(username="ada", first_name="Ada", role="Admin")
    account = AccountFactory(owner=casey, name="Acme Mail", status="active")

    login("casey")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_label("Status").select_option("at_risk")
    page.get_by_role("button", name="Set").click()
    expect(page.locator("#account-status")).to_have_text("At risk")
    expect(page.get_by_test_id("account-audit-link")).to_have_count(0)  # a CSM does not read the trail
    page.context.clear_cookies()

    login("ada")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_test_id("account-audit-link").click()
    entries = page.get_by_test_id("audit-entries")
    row = entries.locator("tbody tr", has_text="casey")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Pages")
    expect(row).to_contain_text("status")
    expect(row).to_contain_text("Active → At risk")  # labels, not the stored codes

    page.get_by_label("Door").select_option("api")
    page.get_by_role("button", name="Apply").click()
    expect(entries).to_contain_text("No entries match these filters.")
    page.get_by_label("Door").select_option("ui")
    page.get_by_role("button", name="Apply").click()
    expect(entries.locator("tbody tr", has_text="casey")).to_have_count(1)
    if os.environ.get("E2E_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["E2E_SCREENSHOTS"], "audit-trail.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_test_id("audit-export-csv").click()
    path = tmp_path / "trail.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [(r["door"], r["actor_label"], r["object_id"]) for r in rows] == [("ui", "casey", str(account.pk))]
