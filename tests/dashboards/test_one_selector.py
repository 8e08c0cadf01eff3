"""A figure shown in several places is read through one selector, so every place shows the same value."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts import selectors as account_selectors
from dashboards.catalog import KPIS, kpi_value
from dashboards.params import KpiQuery
from dashboards.services import kpi_facts_refresh
from tests.factories import AccountFactory, TaskFactory

pytestmark = pytest.mark.django_db


def _workload(owner_id):
    owners = kpi_value(KPIS["csm-workload"], KpiQuery(start=None, end=None))["owners"]
    return next(o for o in owners if o["owner_id"] == owner_id)


def test_workload_tasks_are_live_even_when_account_facts_exist(csm):
    account = AccountFactory(owner=csm, mrr=100)
    TaskFactory(account=account, assignee=csm, due_date=dt.date(2000, 1, 1))
    kpi_facts_refresh()
    # Work created after the facts run shows at once on the dashboard, as on My day.
    TaskFactory(account=account, assignee=csm, due_date=dt.date(2000, 1, 2))
    TaskFactory(account=account, assignee=csm, due_date=None)
    row = _workload(csm.pk)
    day = account_selectors.my_day(user=csm)
    assert (row["open_tasks"], row["overdue_tasks"]) == (3, 2)
    assert (day["open_count"], day["overdue_count"]) == (3, 2)


def test_my_day_counts_every_open_task_not_only_the_listed_ones(client, csm):
    account = AccountFactory(owner=csm)
    TaskFactory.create_batch(105, account=account, assignee=csm, due_date=dt.date(2000, 1, 1))
    day = account_selectors.my_day(user=csm)
    assert len(day["tasks"]) == 100
    assert (day["open_count"], day["overdue_count"]) == (105, 105)
    client.force_login(csm)
    html = client.get(reverse("home")).content.decode()
    assert "105 open, 105 overdue · first 100 shown" in html
    assert _workload(csm.pk)["open_tasks"] == 105


def test_dashboard_workload_says_tasks_are_live_and_facts_have_an_age(client, manager, csm):
    AccountFactory(owner=csm)
    kpi_facts_refresh()
    client.force_login(manager)
    html = client.get("/dashboard/widgets/workload/").content.decode()
    assert "open and overdue tasks live" in html
    assert "from the KPI facts" in html and "data-facts-age=" in html


def test_monthly_account_gets_a_next_renewal_date_shared_by_every_page(client, csm):
    import time_machine

    from accounts.services import account_refresh_snapshots
    from health.metrics import compute_metrics
    from tests.factories import SubscriptionFactory

    today = dt.date(2026, 3, 10)
    monthly = AccountFactory(owner=csm, name="Monthly Co", renewal_date=None)
    SubscriptionFactory(account=monthly, start_date=dt.date(2025, 1, 31), end_date=None, billing_period=1)
    annual = AccountFactory(owner=csm, name="Annual Co", renewal_date=None)
    SubscriptionFactory(account=annual, start_date=dt.date(2025, 6, 1), end_date=None, billing_period=12)
    with time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC), tick=False):
        account_refresh_snapshots(today=today)
        monthly.refresh_from_db()
        annual.refresh_from_db()
        # Anniversaries of the first start, clamped to the month's end: Jan 31 → … → Mar 31.
        assert monthly.renewal_date == dt.date(2026, 3, 31)
        assert annual.renewal_date == dt.date(2026, 6, 1)
        assert account_selectors.next_renewal_dates(day=today) == {
            monthly.pk: dt.date(2026, 3, 31),
            annual.pk: dt.date(2026, 6, 1),
        }
        metrics = compute_metrics(as_of=today, account_ids=[monthly.pk, annual.pk])
        assert metrics.at[monthly.pk, "days_to_renewal"] == 21
        assert metrics.at[annual.pk, "days_to_renewal"] == (dt.date(2026, 6, 1) - today).days
        # My day's 60-day renewals include the monthly account.
        assert [a.pk for a in account_selectors.my_day(user=csm, today=today)["renewals"]] == [monthly.pk]
        client.force_login(csm)
        assert "Mar 31, 2026" in client.get(reverse("account-detail", args=[monthly.pk])).content.decode()


def test_next_renewal_steps_from_the_first_start():
    nr = account_selectors.next_renewal
    assert nr(first_start=dt.date(2025, 1, 15), billing_period=1, day=dt.date(2025, 1, 15)) == dt.date(2025, 2, 15)
    assert nr(first_start=dt.date(2025, 1, 15), billing_period=1, day=dt.date(2025, 1, 14)) == dt.date(2025, 2, 15)
    assert nr(first_start=dt.date(2025, 1, 31), billing_period=1, day=dt.date(2025, 2, 28)) == dt.date(2025, 3, 31)
    assert nr(first_start=dt.date(2024, 2, 29), billing_period=12, day=dt.date(2025, 3, 1)) == dt.date(2026, 2, 28)
    assert nr(first_start=dt.date(2025, 1, 1), billing_period=3, day=dt.date(2025, 12, 31)) == dt.date(2026, 1, 1)


def test_two_churned_and_two_arpa_figures_carry_different_names_and_definitions_side_by_side(client, manager):
    from tests.factories import SubscriptionFactory
    from tests.winback.factories import ChurnRecordFactory

    # Starts and leaves inside January: a departure (churn record), not logo churn (not active on Jan 1).
    brief = AccountFactory(name="Brief Co")
    SubscriptionFactory(account=brief, start_date=dt.date(2024, 1, 5), end_date=dt.date(2024, 1, 20), mrr=100)
    ChurnRecordFactory(account=brief, churned_on=dt.date(2024, 1, 20))
    steady = AccountFactory(name="Steady Co")
    SubscriptionFactory(account=steady, start_date=dt.date(2023, 1, 1), end_date=None, mrr=300)
    query = KpiQuery(start=dt.date(2024, 1, 1), end=dt.date(2024, 2, 1))
    assert kpi_value(KPIS["churn-rate"], query)["n_churn"] == 0
    assert kpi_value(KPIS["winback-results"], query)["n_churned"] == 1
    client.force_login(manager)
    params = "?period=custom&start=2024-01-01&end=2024-02-01"
    cards = client.get(f"/dashboard/widgets/kpi-cards/{params}").content.decode()
    winback = client.get(f"/dashboard/widgets/winback/{params}").content.decode()
    assert "churned (active at start, not at end)" in cards
    assert "ARPA at the end" in cards and "ARPA, average of the month starts" in cards
    assert "departures in the period (churn records)" in winback
    for html in (cards, winback):
        assert "figure-definitions" in html
        assert "Win-back · departures (churn records)" in html and "Logo churn · churned" in html
