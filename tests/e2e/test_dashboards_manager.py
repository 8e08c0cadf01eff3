"""Browser: a manager changes the period and the segment, the charts update, a number opens the accounts behind it,
the retention curve draws and drills down, and a widget's CSV downloads."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboards.kpis.periods import add_months, month_start
from tests.factories import AccountFactory, SubscriptionFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _wait_for_months(page, chart: str, months: int) -> None:
    """Wait until the drawn Chart.js chart (the live chart, not its JSON) shows `months` months."""
    page.wait_for_function(
        "([id, n]) => { const c = window.Chart && Chart.getChart(document.querySelector(`canvas[data-chart='${id}']`));"
        " return !!c && c.data.labels.length === n; }",
        arg=[chart, months],
    )


@pytest.fixture
def history():
    """SMB and enterprise accounts over the last 14 months; one enterprise account churned 2 months ago."""
    this_month = month_start(timezone.localdate())
    casey = UserFactory(username="casey", first_name="Casey", role="CSM")
    for i in range(4):
        smb = AccountFactory(name=f"Small Shop {i}", segment="smb", owner=casey)
        SubscriptionFactory(account=smb, start_date=add_months(this_month, -14), mrr=Decimal(50 + i))
    steady = AccountFactory(name="Steady Enterprise", segment="enterprise", plan="enterprise", owner=casey)
    SubscriptionFactory(account=steady, start_date=add_months(this_month, -14), mrr=Decimal(2000))
    gone = AccountFactory(name="Globex Enterprise", segment="enterprise", plan="enterprise", owner=casey,
                          status="churned")  # fmt: skip
    SubscriptionFactory(account=gone, start_date=add_months(this_month, -14), end_date=add_months(this_month, -2),
                        mrr=Decimal(3000))  # fmt: skip
    # The one account whose first subscription started within the last 12 months: the retention curve's account.
    brief = AccountFactory(name="Brief Trial Shop", segment="smb", owner=casey, status="churned")
    SubscriptionFactory(account=brief, start_date=add_months(this_month, -8), end_date=add_months(this_month, -5),
                        mrr=Decimal(20))  # fmt: skip


def test_manager_filters_the_dashboard_drills_down_and_exports(live_server, login, page, history):
    UserFactory(username="mia", role="Manager")
    login("mia")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()

    # Each widget loads on its own; the default period is the last 12 months.
    churn_card = page.locator("#card-churn")
    expect(churn_card.locator(".kpi-value")).to_have_text("16.7 %")  # 1 of 6 accounts active a year ago churned
    _wait_for_months(page, "chart-churn-trend", 12)
    _wait_for_months(page, "chart-mrr-movements", 12)

    # The Kaplan–Meier retention curve: drawn from 100 % down to 0 at the one churn, which opens its account.
    page.wait_for_function(
        "() => { const c = window.Chart"
        " && Chart.getChart(document.querySelector(\"canvas[data-chart='chart-survival']\"));"
        " return !!c && c.data.datasets[0].data.length === 2 && c.data.datasets[0].data[1].y === 0; }"
    )
    survival = page.locator("#widget-survival")
    expect(survival.get_by_text("Definition")).to_be_visible()
    survival.locator("dt", has_text="churned").locator("xpath=following-sibling::dd").get_by_role("link").click()
    panel = page.locator("#drilldown")
    expect(panel.get_by_role("link", name="Brief Trial Shop")).to_be_visible()
    expect(panel.get_by_text("Steady Enterprise")).to_have_count(0)

    # The period changes in place and in the URL; the charts are redrawn with 6 months.
    page.get_by_label("Period").select_option("6m")
    expect(page).to_have_url(re.compile(r"period=6m"))
    _wait_for_months(page, "chart-churn-trend", 6)
    _wait_for_months(page, "chart-mrr-movements", 6)

    # The segment too: only the two enterprise accounts count now.
    page.get_by_label("Segment").select_option("enterprise")
    expect(page).to_have_url(re.compile(r"period=6m.*segment=enterprise"))
    expect(churn_card.locator(".kpi-value")).to_have_text("50.0 %")
    expect(page.locator("#dashboard-period")).to_contain_text("enterprise")

    # The number of churned accounts opens the accounts behind it; each opens its Customer 360.
    churn_card.get_by_role("link", name="1", exact=True).first.click()
    panel = page.locator("#drilldown")
    expect(panel.get_by_role("heading", name=re.compile("Churned"))).to_be_visible()
    expect(panel.get_by_role("link", name="Globex Enterprise")).to_be_visible()
    expect(panel.get_by_text("Steady Enterprise")).to_have_count(0)
    panel.get_by_role("link", name="Globex Enterprise").click()
    expect(page.get_by_role("heading", name=re.compile("Globex Enterprise"))).to_be_visible()

    # Back on the dashboard with the same filters; the churn chart's figures download as CSV.
    page.go_back()
    expect(page).to_have_url(re.compile(r"segment=enterprise"))
    widget = page.locator("#widget-churn-trend")
    with page.expect_download() as download:
        widget.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.startswith("churnapp-churn-trend-")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert len(rows) == 6
    assert sum(int(row["n_churn"]) for row in rows) == 1
