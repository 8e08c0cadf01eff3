"""A data-subject request as an admin meets it: from the Customer 360, download a contact's data, open the erasure,
read what goes and what stays, mistype the confirmation (refused), type it right, and land back on the account
with the contact anonymous and the erasure on the audit trail."""

from __future__ import annotations

import json
import os

import pytest
from playwright.sync_api import expect

from accounts.models import Contact
from audit.models import AuditEntry
from tests.factories import AccountFactory, ContactFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_exports_then_erases_a_contact_from_the_customer_360(live_server, login, page, tmp_path):
    UserFactory(username="ada", first_name="Ada", role="Admin")
    account = AccountFactory(name="Acme Mail")
    contact = ContactFactory(account=account, name="Zoe Quill", email="zoe.quill@acme.test")

    login("ada")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    card = page.locator("#privacy-card")
    row = card.locator("li", has_text="Zoe Quill")
    with page.expect_download() as download:
        row.get_by_role("link", name="Export").click()
    path = tmp_path / "zoe.json"
    download.value.save_as(path)
    assert "zoe.quill@acme.test" in path.read_text() and json.loads(path.read_text())["subject"]["kind"] == "contact"

    row.get_by_role("link", name="Erase personal data…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase a contact's personal data")
    if os.environ.get("E2E_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["E2E_SCREENSHOTS"], "privacy-erase.png"), full_page=True)
    confirmation = page.get_by_label("Type the contact's identifier to confirm:")
    confirmation.fill("someone else")
    page.get_by_role("button", name="Erase personal data").click()
    expect(page.locator(".errorlist")).to_be_visible()
    assert Contact.objects.get(pk=contact.pk).email == "zoe.quill@acme.test"  # refused: nothing changed

    page.get_by_label("Type the contact's identifier to confirm:").fill("zoe.quill@acme.test")
    page.get_by_role("button", name="Erase personal data").click()
    page.wait_for_url(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.get_by_role("status").or_(page.locator(".messages"))).to_contain_text("Personal data erased")
    expect(page.locator("#privacy-card")).not_to_contain_text("Zoe Quill")
    erased = Contact.objects.get(pk=contact.pk)
    assert (erased.email, erased.name) == ("", "Erased contact")
    entry = AuditEntry.objects.get(action="erase")
    assert (entry.door, entry.actor_label, entry.object_id) == ("ui", "ada", str(contact.pk))
