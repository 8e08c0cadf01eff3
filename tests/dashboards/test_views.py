"""The manager dashboard: roles, widgets, filters in the URL, drill-downs, CSV exports, goals and CAC."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine

from dashboards.models import AcquisitionCost, Goal
from dashboards.widgets.registry import WIDGETS

pytestmark = pytest.mark.django_db

JANUARY = {"period": "custom", "start": "2024-01-01", "end": "2024-02-01"}


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert "login/?next=/dashboard/" in response["Location"]


@pytest.mark.parametrize("role", ["viewer", "csm", "manager", "admin_user"])
def test_every_role_reads_the_dashboard_and_its_widgets(client, request, role, book):
    client.force_login(request.getfixturevalue(role))
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert b'class="skeleton"' in page.content
    for widget in WIDGETS:
        assert client.get(f"/dashboard/widgets/{widget}/", JANUARY).status_code == 200, widget


def test_sidebar_links_to_the_dashboard(client, viewer):
    client.force_login(viewer)
    assert b'href="/dashboard/"' in client.get("/").content


def test_filters_live_in_the_url_and_reach_every_widget(client, manager, book):
    client.force_login(manager)
    page = client.get("/dashboard/", {**JANUARY, "segment": "enterprise"}).content.decode()
    assert (
        "/dashboard/widgets/churn-trend/?period=custom&amp;start=2024-01-01&amp;end=2024-02-01&amp;segment=enterprise"
        in page
    )
    assert 'hx-push-url="true"' in page


def test_the_filter_bar_keeps_the_chosen_owner_and_plan(client, manager, csm, book):
    client.force_login(manager)
    page = client.get("/dashboard/", {"owner": str(csm.pk), "plan": "pro"}).content.decode()
    assert f'<option value="{csm.pk}" selected>Casey Morgan</option>' in page
    assert '<option value="pro" selected>pro</option>' in page


def test_an_htmx_filter_change_swaps_only_the_widgets(client, manager, book):
    client.force_login(manager)
    response = client.get("/dashboard/", {"period": "6m"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="dashboard-widgets")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="dashboard-widgets"')
    assert "<nav" not in body


def test_bad_filters_show_errors_and_fall_back_to_the_last_12_months(client, manager, book):
    client.force_login(manager)
    response = client.get("/dashboard/", {"period": "custom", "start": "2024-02-01", "end": "2024-01-01"})
    assert response.status_code == 200
    assert "The end must be after the start." in response.content.decode()
    assert "period=12m" in response.content.decode()


def test_cards_show_the_same_numbers_as_the_api(client, manager, book):
    client.force_login(manager)
    cards = client.get("/dashboard/widgets/kpi-cards/", JANUARY).content.decode()
    api = client.get("/api/v1/kpis/churn-rate/", {"start": "2024-01-01", "end": "2024-02-01"}).json()
    assert f"{100 * api['churn_rate']:.1f} %" in cards  # 16.7 %
    rows = _csv(client.get("/dashboard/widgets/kpi-cards/csv/", JANUARY))
    figures = {(r["kpi"], r["key"]): r["value"] for r in rows}
    assert float(figures[("churn-rate", "churn_rate")]) == pytest.approx(api["churn_rate"])
    assert float(figures[("net-retention", "retained_mrr")]) == 520
    assert float(figures[("mrr-churn", "downsell_mrr")]) == 220


def test_cards_show_definitions_benchmarks_and_drill_links(client, manager, book):
    client.force_login(manager)
    cards = client.get("/dashboard/widgets/kpi-cards/", {**JANUARY, "segment": "smb"}).content.decode()
    assert "<summary>Definition</summary>" in cards
    assert "Benchmark: Monthly: SMB &lt; 5 %, enterprise &lt; 1–2 %" in cards
    assert "/dashboard/drilldown/churn-rate/churned/?start=2024-01-01&amp;end=2024-02-01&amp;segment=smb" in cards
    assert 'hx-target="#drilldown"' in cards


def test_widgets_are_computed_in_a_bounded_number_of_queries(client, manager, book, django_assert_max_num_queries):
    client.force_login(manager)
    limits = {"kpi-cards": 16, "churn-trend": 12, "mrr-movements": 8, "nps": 8, "cohorts": 8, "health": 8,
              "workload": 10, "goals": 8}  # fmt: skip
    for widget, limit in limits.items():
        with django_assert_max_num_queries(limit):
            client.get(f"/dashboard/widgets/{widget}/", {"period": "12m"})


def test_unknown_widget_is_404(client, viewer):
    client.force_login(viewer)
    assert client.get("/dashboard/widgets/astrology/").status_code == 404
    assert client.get("/dashboard/widgets/astrology/csv/").status_code == 404


@pytest.mark.parametrize("widget", list(WIDGETS))
def test_every_widget_exports_csv(client, viewer, book, widget):
    client.force_login(viewer)
    response = client.get(f"/dashboard/widgets/{widget}/csv/", JANUARY)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith(f'attachment; filename="churnapp-{widget}-20240101-20240201')
    assert b"".join(response.streaming_content).decode().splitlines()[0]


def test_churn_trend_csv_has_a_row_per_month(client, viewer, book):
    client.force_login(viewer)
    rows = _csv(client.get("/dashboard/widgets/churn-trend/csv/", {"period": "custom", "start": "2023-11-01",
                                                                   "end": "2024-03-01"}))  # fmt: skip
    assert [r["month"] for r in rows] == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert [r["n_churn"] for r in rows] == ["0", "1", "1", "0"]


def test_drilldown_lists_the_accounts_behind_a_number(client, viewer, book):
    client.force_login(viewer)
    params = {"start": "2024-01-01", "end": "2024-02-01"}
    churned = client.get("/dashboard/drilldown/churn-rate/churned/", params).content.decode()
    assert ">B</a>" in churned and "1 account." in churned
    moves = {m: client.get(f"/dashboard/drilldown/mrr-movements/{m}/", params).content.decode()
             for m in ("new", "reactivated", "expansion", "contraction")}  # fmt: skip
    assert ">New</a>" in moves["new"] and ">Brief</a>" not in moves["new"]
    assert ">Back</a>" in moves["reactivated"]
    assert ">Up</a>" in moves["expansion"]
    assert ">Down</a>" in moves["contraction"] and ">Addon</a>" in moves["contraction"]
    active = client.get("/dashboard/drilldown/churn-rate/active-start/", params).content.decode()
    assert "6 accounts" in active and ">D</a>" not in active


def test_drilldown_as_htmx_partial_and_csv(client, viewer, book):
    client.force_login(viewer)
    params = {"start": "2024-01-01", "end": "2024-02-01", "segment": "smb"}
    partial = client.get("/dashboard/drilldown/mrr-churn/contraction/", params, HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<div id="drilldown-table"')
    rows = _csv(client.get("/dashboard/drilldown/mrr-churn/contraction/csv/", params))
    assert {r["name"]: (r["start_mrr"], r["end_mrr"]) for r in rows} == {
        "Down": ("300.0", "120.0"),
        "Addon": ("140.0", "100.0"),
    }
    assert {r["currency"] for r in rows} == {"USD"}  # amounts name their currency


def test_csvs_name_the_currency_of_their_amounts_and_only_those(client, viewer, book, settings):
    settings.CURRENCY = "EUR"
    client.force_login(viewer)
    params = {"start": "2024-01-01", "end": "2024-02-01"}
    amounts = _csv(client.get("/dashboard/drilldown/mrr-churn/contraction/csv/", params))
    assert {r["currency"] for r in amounts} == {"EUR"}
    counts = _csv(client.get("/dashboard/widgets/nps/csv/", params))
    assert counts and "currency" not in counts[0]


def test_drilldown_of_activity_surveys_and_cohorts(client, viewer, activity):
    from tests.dashboards.conftest import at
    from tests.factories import SurveyResponseFactory

    SurveyResponseFactory(account=activity["C"], kind="nps", score=10, responded_at=at("2024-01-10T00:00"))
    client.force_login(viewer)
    params = {"start": "2024-01-01", "end": "2024-02-01"}
    inactive = client.get("/dashboard/drilldown/activity-churn/churned/", {**params, "window": "30d"}).content
    assert b">B</a>" in inactive and b">Down</a>" in inactive and b">A</a>" not in inactive
    assert b">C</a>" in client.get("/dashboard/drilldown/nps/promoters/", params).content
    cohort = client.get("/dashboard/drilldown/cohort-retention/members/",
                        {"start": "2024-01-01", "end": "2024-03-01", "cohort": "2024-01", "k": "0"})  # fmt: skip
    assert b">C</a>" in cohort.content and b">New</a>" in cohort.content and b">A</a>" not in cohort.content


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/drilldown/churn-rate/bogus/?start=2024-01-01&end=2024-02-01",
        "/dashboard/drilldown/happiness/churned/?start=2024-01-01&end=2024-02-01",
        "/dashboard/drilldown/csm-workload/churned/?start=2024-01-01&end=2024-02-01",
        "/dashboard/drilldown/churn-rate/churned/?start=nope&end=2024-02-01",
        "/dashboard/drilldown/cohort-retention/active/?start=2024-01-01&end=2024-02-01&cohort=soon",
    ],
)
def test_bad_drilldowns_are_404(client, viewer, url):
    client.force_login(viewer)
    assert client.get(url).status_code == 404


def test_health_and_workload_numbers_open_the_accounts_list(client, viewer, csm):
    from tests.factories import AccountFactory

    AccountFactory(owner=csm, health_band="red", segment="smb")
    client.force_login(viewer)
    health = client.get("/dashboard/widgets/health/", {"segment": "smb"}).content.decode()
    assert "/accounts/?segment=smb&amp;band=red&amp;status=onboarding&amp;status=active" in health
    workload = client.get("/dashboard/widgets/workload/").content.decode()
    assert f"/accounts/?owner={csm.pk}&amp;status=onboarding" in workload


# Goals -------------------------------------------------------------------------------------------------------------


def test_manager_creates_a_goal_and_sees_its_progress(client, manager, book):
    client.force_login(manager)
    with time_machine.travel(dt.datetime(2024, 2, 15, 12, tzinfo=dt.UTC)):
        response = client.post(
            "/dashboard/goals/",
            {"metric": "monthly_churn", "segment": "", "comparator": "lte", "target": "20", "year": "2024",
             "quarter": "1"},
        )  # fmt: skip
        assert response.status_code == 302
        goal = Goal.objects.get()
        assert goal.created_by == manager
        page = client.get("/dashboard/goals/", {"year": 2024, "quarter": 1}).content.decode()
    # January only (the quarter's complete months): 1 churned of 6 → 16.7 % ≤ 20 %.
    assert "On track" in page
    assert "16.7 %" in page


def test_goal_statuses_after_the_quarter(book):
    from dashboards.goals import goal_progress

    # Q1: Jan 1 of 6 churned, Feb 0 of 7, Mar 0 of 7 → pooled monthly churn 1 / 20 = 5 %.
    missed = Goal.objects.create(metric="monthly_churn", comparator="lte", target=Decimal("4"), year=2024, quarter=1)
    nrr = Goal.objects.create(metric="net_retention", comparator="gte", target=Decimal("50"), year=2024, quarter=1)
    mrr = Goal.objects.create(metric="mrr", comparator="gte", target=Decimal("1000"), year=2024, quarter=1)
    later = dt.date(2024, 6, 1)
    p_missed = goal_progress(missed, today=later)
    assert p_missed.status == "missed"
    assert p_missed.actual == pytest.approx(5.0)
    assert p_missed.measured == (dt.date(2024, 1, 1), dt.date(2024, 4, 1))
    assert p_missed.progress == 80
    assert goal_progress(nrr, today=later).status == "met"
    p_mrr = goal_progress(mrr, today=later)
    assert p_mrr.actual == 680 and p_mrr.status == "missed" and p_mrr.progress == 68
    future = Goal.objects.create(metric="nps", comparator="gte", target=Decimal("40"), year=2030, quarter=1)
    assert goal_progress(future, today=later).status == "not_started"
    empty = Goal.objects.create(metric="csat", comparator="gte", target=Decimal("80"), year=2024, quarter=2)
    assert goal_progress(empty, today=later).status == "no_data"


@pytest.mark.parametrize("role", ["csm", "viewer"])
def test_csms_and_viewers_read_goals_but_cannot_set_them(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    goal = Goal.objects.create(metric="nps", comparator="gte", target=Decimal("40"), year=2024, quarter=1)
    page = client.get("/dashboard/goals/", {"year": 2024, "quarter": 1})
    assert page.status_code == 200 and b"NPS" in page.content and b"Save goal" not in page.content
    new = {"metric": "nps", "comparator": "gte", "target": "10", "year": "2024", "quarter": "2"}
    assert client.post("/dashboard/goals/", new).status_code == 403
    assert client.post(f"/dashboard/goals/{goal.pk}/delete/").status_code == 403
    assert Goal.objects.count() == 1


def test_goal_form_errors_are_shown(client, manager):
    client.force_login(manager)
    response = client.post("/dashboard/goals/", {"metric": "nps", "comparator": "gte", "target": "x", "year": "2024",
                                                 "quarter": "7"})  # fmt: skip
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not Goal.objects.exists()


def test_dashboard_goal_widget_shows_this_quarters_goals(client, viewer, book):
    Goal.objects.create(metric="nps", comparator="gte", target=Decimal("40"), year=2024, quarter=1)
    client.force_login(viewer)
    with time_machine.travel(dt.datetime(2024, 2, 15, 12, tzinfo=dt.UTC)):
        body = client.get("/dashboard/widgets/goals/").content.decode()
    assert "NPS" in body and 'role="progressbar"' in body


# CAC ---------------------------------------------------------------------------------------------------------------


def test_manager_enters_cac_and_clv_uses_it(client, manager, book):
    client.force_login(manager)
    response = client.post("/dashboard/cac/", {"month": "2024-01", "segment": "", "amount": "445"})
    assert response.status_code == 302
    entry = AcquisitionCost.objects.get()
    assert entry.month == dt.date(2024, 1, 1) and entry.updated_by == manager
    clv = client.get("/api/v1/kpis/clv/", {"start": "2024-01-01", "end": "2024-02-01"}).json()
    assert clv["cac"] == 445 and clv["clv_cac_ratio"] == pytest.approx(2.0)
    client.post("/dashboard/cac/", {"month": "2024-01", "segment": "smb", "amount": "100"})
    smb = client.get("/api/v1/kpis/clv/", {"start": "2024-01-01", "end": "2024-02-01", "segment": "smb"}).json()
    assert smb["cac"] == 100
    assert AcquisitionCost.objects.count() == 2


@pytest.mark.parametrize("role", ["csm", "viewer"])
def test_only_managers_enter_cac(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/dashboard/cac/").status_code == 200
    assert client.post("/dashboard/cac/", {"month": "2024-01", "amount": "10"}).status_code == 403
    entry = AcquisitionCost.objects.create(month=dt.date(2024, 1, 1), amount=Decimal("1"))
    assert client.post(f"/dashboard/cac/{entry.pk}/delete/").status_code == 403


def test_key_figures_csv_names_the_currency_row_by_row(client, viewer, book, settings):
    """The key figures file mixes amounts, counts and rates: each row says whether it is money, as the API declares."""
    settings.CURRENCY = "EUR"
    client.force_login(viewer)
    rows = _csv(client.get("/dashboard/widgets/kpi-cards/csv/", {"start": "2024-01-01", "end": "2024-02-01"}))
    currency = {(r["kpi"], r["key"]): r["currency"] for r in rows}
    assert currency[("arpa", "arpa")] == currency[("mrr-churn", "start_mrr")] == currency[("clv", "clv")] == "EUR"
    assert currency[("churn-rate", "churn_rate")] == currency[("churn-rate", "n_churn")] == ""
    assert currency[("nps", "nps")] == ""
