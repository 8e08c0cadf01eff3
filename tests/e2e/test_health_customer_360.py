from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import AccountFactory, UserFactory
from tests.health.factories import declining_history

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_customer_360_shows_health_breakdown_trend_and_changelog(live_server, login):
    csm = UserFactory(username="casey", first_name="Casey", role="CSM")
    acme = AccountFactory(owner=csm, name="Acme Mail")
    declining_history(acme, end=timezone.localdate())

    page = login("casey")
    page.goto(f"{live_server.url}/accounts/{acme.pk}/")
    health = page.locator("#account-health")
    breakdown = health.get_by_role("table", name="Health breakdown")
    expect(breakdown.get_by_role("row", name=re.compile("active days"))).to_be_visible()
    expect(health.get_by_text(re.compile("No data for latest NPS"))).to_be_visible()
    canvas = health.locator("canvas[data-chart]")
    expect(canvas).to_have_attribute("data-drawn", "1")  # Chart.js drew the 90-day trend
    changelog = health.get_by_role("list", name="Health changelog")
    expect(changelog.get_by_text(re.compile(r"score fell \d+ points: active days"))).to_be_visible()
    expect(changelog.get_by_text(re.compile("2 new tickets"))).to_be_visible()
    page.screenshot(path="/tmp/health-360.png", full_page=True)
