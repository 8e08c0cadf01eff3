"""Configuration as code as an admin meets it: download the bundle, edit a rule's cooldown in the file, upload it,
read the plan (the field, old → new), confirm, and see it applied; uploading it again shows nothing to change."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from automations.models import Rule
from automations.rules import rule_save
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_downloads_edits_uploads_and_applies_the_bundle(live_server, login, page, tmp_path):
    UserFactory(username="ada", first_name="Ada", role="Admin")
    rule_save(
        key="health-below-70",
        name="Health below 70",
        conditions_tree={"all": [{"type": "health_below", "value": 70}]},
        actions_list=[{"type": "create_task", "title": "Call them"}],
        cooldown_days=14,
    )
    login("ada")
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Configuration", exact=True).click()
    with page.expect_download() as download:
        page.get_by_test_id("bundle-download").click()
    path = tmp_path / "churnapp.yaml"
    download.value.save_as(path)
    text = path.read_text()
    assert "cooldown_days: 14" in text
    path.write_text(text.replace("cooldown_days: 14", "cooldown_days: 7"))

    page.get_by_label("Bundle file (YAML or JSON)").set_input_files(str(path))
    page.get_by_role("button", name="Show what it would change").click()
    plan = page.get_by_test_id("bundle-plan")
    expect(plan.locator("tbody tr")).to_have_count(1)
    expect(plan).to_contain_text("health-below-70")
    expect(plan).to_contain_text("cooldown_days: 14 → 7")
    assert Rule.objects.get(key="health-below-70").cooldown_days == 14

    page.get_by_test_id("bundle-apply").click()
    expect(page.get_by_test_id("bundle-applied")).to_contain_text("cooldown_days: 14 → 7")
    assert Rule.objects.get(key="health-below-70").cooldown_days == 7

    page.get_by_label("Bundle file (YAML or JSON)").set_input_files(str(path))
    page.get_by_role("button", name="Show what it would change").click()
    expect(page.get_by_test_id("bundle-plan-empty")).to_be_visible()
