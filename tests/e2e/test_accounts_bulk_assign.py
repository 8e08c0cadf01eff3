"""Bulk assign on the accounts list, clicked at human speed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAUSE_MS = 500


def test_manager_ticks_accounts_picks_an_owner_slowly_and_reassigns(live_server, login):
    UserFactory(username="mia", first_name="Mia", last_name="Manager", role="Manager")
    ana = UserFactory(username="csm.ana", first_name="Ana", last_name="Lopez", role="CSM")
    chosen = [AccountFactory(name=f"Chosen {i}", owner=None) for i in range(3)]
    left = AccountFactory(name="Left Alone", owner=None)

    page = login("mia")
    page.goto(f"{live_server.url}/accounts/?ordering=name")
    table = page.locator("#account-table")
    for account in chosen:
        table.get_by_label(f"Select {account.name}").check()
        page.wait_for_timeout(PAUSE_MS)
    expect(page.locator("[data-selected-count]")).to_have_text("3 selected")

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/accounts/" in r.url and r.method == "GET" else None)
    page.locator("#id_bulk_owner").select_option(label="Ana Lopez")
    page.wait_for_timeout(PAUSE_MS * 2)
    # Choosing an owner does not reload the table: the ticks and the choice survive.
    assert requests == []
    for account in chosen:
        expect(table.get_by_label(f"Select {account.name}")).to_be_checked()
    expect(page.locator("#id_bulk_owner")).to_have_value(str(ana.pk))

    dialogs: list[str] = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.wait_for_timeout(PAUSE_MS)
    page.get_by_role("button", name="Assign selected").click()
    expect(page.get_by_text("Reassigned 3 accounts to Ana Lopez.")).to_be_visible()
    assert dialogs == ["Assign 3 selected account(s) to Ana Lopez?"]
    assert set(Account.objects.filter(owner=ana).values_list("name", flat=True)) == {a.name for a in chosen}
    assert Account.objects.get(pk=left.pk).owner_id is None


def test_cancelling_the_confirmation_changes_nothing(live_server, login):
    UserFactory(username="mia", role="Manager")
    ana = UserFactory(username="csm.ana", first_name="Ana", last_name="Lopez", role="CSM")
    account = AccountFactory(name="Kept Co", owner=None)
    page = login("mia")
    page.goto(f"{live_server.url}/accounts/")
    page.locator("#account-table").get_by_label("Select Kept Co").check()
    page.locator("#id_bulk_owner").select_option(label="Ana Lopez")
    page.on("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Assign selected").click()
    page.wait_for_timeout(PAUSE_MS)
    assert Account.objects.get(pk=account.pk).owner_id is None
    assert not Account.objects.filter(owner=ana).exists()
