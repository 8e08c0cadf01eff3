"""Bulk edits on the accounts list, clicked at human speed: ticked rows, and every account matching a filter."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Account, AccountStatus, Activity
from tests.factories import AccountFactory, TagFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAUSE_MS = 400


def test_manager_sets_the_status_of_three_ticked_accounts_after_a_confirmation(live_server, login):
    mia = UserFactory(username="mia", first_name="Mia", last_name="Manager", role="Manager")
    chosen = [AccountFactory(name=f"Chosen {i}") for i in range(3)]
    left = AccountFactory(name="Left Alone")

    page = login("mia")
    page.goto(f"{live_server.url}/accounts/?ordering=name")
    table = page.locator("#account-table")
    for account in chosen:
        table.get_by_label(f"Select {account.name}").check()
        page.wait_for_timeout(PAUSE_MS)
    expect(page.locator("[data-selected-count]")).to_have_text("3 selected")

    page.locator("#id_bulk_action").select_option(label="Set status")
    page.wait_for_timeout(PAUSE_MS)
    # Only the chosen action's value shows: the status list, not the tag box.
    expect(page.locator("#id_bulk_status")).to_be_visible()
    expect(page.locator("#id_bulk_text")).to_be_hidden()
    page.locator("#id_bulk_status").select_option(label="At risk")
    page.wait_for_timeout(PAUSE_MS)
    page.get_by_role("button", name="Apply to selected").click()

    expect(page.get_by_test_id("bulk-count")).to_contain_text("3 accounts will be changed: Set status: At risk")
    assert not Account.objects.filter(status=AccountStatus.AT_RISK).exists()
    page.wait_for_timeout(PAUSE_MS)
    page.get_by_role("button", name="Change 3 accounts").click()

    expect(page.get_by_text("Set status: At risk — changed 3 accounts.")).to_be_visible()
    assert set(Account.objects.filter(status=AccountStatus.AT_RISK).values_list("name", flat=True)) == {
        a.name for a in chosen
    }
    assert Account.objects.get(pk=left.pk).status == AccountStatus.ACTIVE
    assert Activity.objects.filter(kind="change", author=mia, details__field="status").count() == 3


def test_manager_tags_every_account_matching_a_filter(live_server, login):
    UserFactory(username="mia", role="Manager")
    at_risk = [AccountFactory(name=f"Risky {i}", status=AccountStatus.AT_RISK) for i in range(30)]
    fine = AccountFactory(name="Fine Co", status=AccountStatus.ACTIVE)
    TagFactory(name="q3-rescue")

    page = login("mia")
    page.goto(f"{live_server.url}/accounts/")
    page.locator("#id_status").select_option(label="At risk")
    expect(page.locator("#account-count")).to_have_text("30 accounts")
    page.wait_for_timeout(PAUSE_MS)
    page.locator("#id_bulk_action").select_option(label="Add tag")
    page.locator("#id_bulk_text").fill("q3-rescue")
    page.wait_for_timeout(PAUSE_MS)
    # 30 accounts over two pages: "all matching" reaches the ones the page does not show.
    page.get_by_role("button", name="Apply to all 30 matching").click()

    expect(page.get_by_test_id("bulk-count")).to_contain_text("30 accounts will be changed: Add tag: “q3-rescue”")
    page.wait_for_timeout(PAUSE_MS)
    page.get_by_role("button", name="Change 30 accounts").click()

    expect(page.get_by_text("Add tag: “q3-rescue” — changed 30 accounts.")).to_be_visible()
    assert "status=at_risk" in page.url
    assert all(a.tags.filter(name="q3-rescue").exists() for a in at_risk)
    assert not fine.tags.exists()


def test_a_large_edit_runs_in_a_worker_and_shows_its_progress(live_server, login, settings):
    settings.BULK_EDIT_INLINE_LIMIT = 5
    UserFactory(username="mia", role="Manager")
    AccountFactory.create_batch(12)

    page = login("mia")
    page.goto(f"{live_server.url}/accounts/")
    page.locator("#id_bulk_action").select_option(label="Set lifecycle stage")
    page.locator("#id_bulk_stage").select_option(label="Renewal")
    page.get_by_role("button", name="Apply to all 12 matching").click()
    page.get_by_role("button", name="Change 12 accounts").click()

    expect(page.get_by_test_id("bulk-status")).to_contain_text("Done 12 / 12 accounts")
    expect(page.get_by_test_id("bulk-changed")).to_have_text("12")
    assert Account.objects.filter(lifecycle_stage="renewal").count() == 12


def test_cancelling_the_confirmation_changes_nothing(live_server, login):
    UserFactory(username="mia", role="Manager")
    ana = UserFactory(username="csm.ana", first_name="Ana", last_name="Lopez", role="CSM")
    account = AccountFactory(name="Kept Co", owner=None)
    page = login("mia")
    page.goto(f"{live_server.url}/accounts/")
    page.locator("#account-table").get_by_label("Select Kept Co").check()
    page.locator("#id_bulk_action").select_option(label="Assign owner")
    page.locator("#id_bulk_owner").select_option(label="Ana Lopez")
    page.get_by_role("button", name="Apply to selected").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Bulk edit cancelled: nothing changed.")).to_be_visible()
    assert Account.objects.get(pk=account.pk).owner_id is None
    assert not Account.objects.filter(owner=ana).exists()
