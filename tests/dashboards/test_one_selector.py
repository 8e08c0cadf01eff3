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
    assert "(KPI facts)" in html
