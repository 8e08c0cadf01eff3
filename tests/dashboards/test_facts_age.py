"""Precomputed figures say how old they are: every dashboard widget that read the KPI facts prints their age."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dashboards import selectors
from dashboards.models import KpiFactRun
from dashboards.views import _state
from dashboards.widgets.registry import WIDGETS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Widgets that read the KPI or lifecycle facts over the default period (last 12 whole months) when a run covers it.
FACTS_BACKED = {"kpi-cards", "churn-trend", "mrr-movements", "nps", "cohorts", "health", "workload", "survival",
                "health-movement", "engagement", "purchases", "onboarding"}  # fmt: skip


@pytest.fixture
def facts(settings, tmp_path):
    settings.CHURNAPP_VAR_DIR = str(tmp_path)
    out = io.StringIO()
    call_command("simulate", accounts=40, months=14, seed=5, stdout=out)
    call_command("refresh_snapshots", stdout=out)
    call_command("refresh_kpi_facts", stdout=out)
    run = selectors.latest_run()
    KpiFactRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - dt.timedelta(hours=3))
    run.refresh_from_db()
    return run


def _read_facts(rf, user, name: str, query: str = "") -> bool:
    request = rf.get(f"/dashboard/?{query}")
    request.user = user
    _, state = _state(request)
    with selectors.shared_reads():
        WIDGETS[name][1](state)
        return selectors.facts_read_at() is not None


def test_every_widget_that_reads_facts_prints_their_age_and_live_widgets_do_not(client, rf, facts):
    manager = UserFactory(username="age-manager", role="Manager")
    client.force_login(manager)
    stamp = timezone.localtime(facts.finished_at).isoformat()
    read = {name for name in WIDGETS if _read_facts(rf, manager, name)}
    assert FACTS_BACKED <= read, read
    for name in WIDGETS:
        html = client.get(reverse("dashboard-widget", args=[name])).content.decode()
        ages = re.findall(r'data-facts-age="([^"]+)"', html)
        if name in read:
            assert ages == [stamp], name
            assert "3\xa0hours ago" in html or "3 hours ago" in html, name
        else:
            assert not ages, name
    # With an owner filter the figures are computed live: no age, and the task counts stay live either way.
    assert not _read_facts(rf, manager, "kpi-cards", f"owner={manager.pk}")
    html = client.get(reverse("dashboard-widget", args=["kpi-cards"]), {"owner": manager.pk}).content.decode()
    assert "data-facts-age" not in html
    workload = client.get(reverse("dashboard-widget", args=["workload"])).content.decode()
    assert "open and overdue tasks live" in workload


def test_the_dashboard_header_dates_the_facts_like_the_widgets(client, facts):
    client.force_login(UserFactory(username="age-viewer", role="Viewer"))
    html = client.get(reverse("dashboard")).content.decode()
    assert re.search(r'id="facts-status">Figures per whole month from the KPI facts as of \w{3} \d+, \d{4} \d\d:\d\d '
                     r"\(3.hours ago\)", html)  # fmt: skip
