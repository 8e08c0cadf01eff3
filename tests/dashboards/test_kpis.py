"""Every KPI against figures computed by hand from the `book` fixture (tests/dashboards/conftest.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dashboards.catalog import KPIS, kpi_series, kpi_value
from dashboards.kpis.periods import Window
from dashboards.models import AcquisitionCost
from dashboards.params import KpiFilters, KpiQuery
from tests.dashboards.conftest import E, S, at, sub
from tests.factories import AccountFactory, ContactFactory, SurveyResponseFactory, TaskFactory

pytestmark = pytest.mark.django_db


def value(name: str, start=S, end=E, source="live", **options):
    return kpi_value(KPIS[name], KpiQuery(start=start, end=end, **options), source=source)


def test_churn_rate_counts_accounts_active_at_start_and_gone_at_end(book):
    row = value("churn-rate")
    # Active at S: A, B, C (starts on S), Up, Down, Addon; D ended on S. Only B (ends on E) is gone at E.
    assert row["n_start"] == 6
    assert row["n_churn"] == 1
    assert row["churn_rate"] == pytest.approx(1 / 6)
    assert row["retention_rate"] == pytest.approx(5 / 6)
    assert row["reasons"] == {}
    assert (row["start"], row["end"]) == (S, E)


def test_mrr_churn_adds_churned_mrr_and_downsell(book):
    row = value("mrr-churn")
    assert row["start_mrr"] == 890
    assert row["churn_mrr"] == 200  # B
    assert row["downsell_mrr"] == 220  # Down 300 → 120, Addon 140 → 100
    assert row["mrr_churn_rate"] == pytest.approx(420 / 890)


def test_net_and_gross_retention(book):
    row = value("net-retention")
    # Active at both: A 100→100, C 50→50, Up 100→150, Down 300→120, Addon 140→100.
    assert row["start_mrr"] == 890
    assert row["retained_mrr"] == 520
    assert row["gross_retained_mrr"] == 470  # Up capped at 100
    assert row["net_retention_rate"] == pytest.approx(520 / 890)
    assert row["gross_retention_rate"] == pytest.approx(470 / 890)


def test_mrr_movements_reconcile_start_and_end(book):
    row = value("mrr-movements")
    assert row["start_mrr"] == 890
    assert row["new_mrr"] == 90  # New (Brief came and went inside the period)
    assert row["expansion_mrr"] == 50  # Up
    assert row["reactivation_mrr"] == 70  # Back
    assert row["contraction_mrr"] == 220
    assert row["churned_mrr"] == 200
    assert row["end_mrr"] == 680
    assert row["net_change_mrr"] == -210
    assert (row["n_new"], row["n_expanded"], row["n_reactivated"], row["n_contracted"], row["n_churned"]) == (
        1, 1, 1, 2, 1,
    )  # fmt: skip
    assert 890 + 90 + 50 + 70 - 220 - 200 == row["end_mrr"]


def test_arpa_is_mrr_at_the_end_per_active_account(book):
    row = value("arpa")
    assert row["mrr"] == 680
    assert row["n_active"] == 7
    assert row["arpa"] == pytest.approx(round(680 / 7, 2))


@pytest.mark.parametrize(("window", "n_start", "n_churn"), [("30d", 4, 2), ("1m", 5, 2)])
def test_activity_churn_windows_are_half_open_at_00_00_utc(activity, window, n_start, n_churn):
    row = value("activity-churn", window=Window.parse(window))
    assert (row["n_start"], row["n_churn"]) == (n_start, n_churn)
    assert row["churn_rate"] == pytest.approx(n_churn / n_start)
    assert row["retention_rate"] == pytest.approx(1 - n_churn / n_start)
    assert row["window"] == window


def test_nps_counts_responses_in_the_half_open_period(book):
    acme = book["A"]
    for when, score in [
        ("2023-12-31T23:59", 3),  # before S
        ("2024-01-01T00:00", 9),  # exactly S: counts
        ("2024-01-10T09:00", 10),
        ("2024-01-11T09:00", 8),
        ("2024-01-12T09:00", 7),
        ("2024-01-31T23:59", 0),
        ("2024-02-01T00:00", 10),  # exactly E: does not count
    ]:
        SurveyResponseFactory(account=acme, kind="nps", score=score, responded_at=at(when))
    row = value("nps")
    assert row["n_responses"] == 5
    assert (row["n_promoters"], row["n_passives"], row["n_detractors"]) == (2, 2, 1)
    assert row["nps"] == pytest.approx(20.0)
    assert row["pct_promoters"] == pytest.approx(40.0)
    assert row["distribution"] == [1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]


def test_nps_dedupe_keeps_each_contacts_latest_response(book):
    contact = ContactFactory(account=book["A"])
    SurveyResponseFactory(account=book["A"], contact=contact, kind="nps", score=0, responded_at=at("2024-01-05T00:00"))
    SurveyResponseFactory(account=book["A"], contact=contact, kind="nps", score=9, responded_at=at("2024-01-20T00:00"))
    SurveyResponseFactory(account=book["C"], contact=None, kind="nps", score=6, responded_at=at("2024-01-06T00:00"))
    assert value("nps")["n_responses"] == 3
    deduped = value("nps", dedupe=True)
    assert deduped["n_responses"] == 2
    assert deduped["nps"] == pytest.approx(0.0)  # one promoter (latest 9), one detractor without a contact


def test_csat_is_share_of_four_and_five(book):
    for score in (5, 4, 3, 1):
        SurveyResponseFactory(account=book["C"], kind="csat", score=score, responded_at=at("2024-01-15T12:00"))
    SurveyResponseFactory(account=book["C"], kind="nps", score=10, responded_at=at("2024-01-15T12:00"))
    row = value("csat")
    assert row["n_responses"] == 4
    assert row["n_satisfied"] == 2
    assert row["csat"] == pytest.approx(50.0)
    assert row["distribution"] == [1, 0, 1, 1, 1]


def test_clv_for_one_month_with_margin_and_cac(book):
    AcquisitionCost.objects.create(month=dt.date(2024, 1, 1), amount=Decimal("400"))
    row = value("clv")
    # ARPA = 890 / 6, monthly churn = 1 / 6 → CLV = 890 × margin.
    assert row["arpa"] == pytest.approx(148.33)
    assert row["monthly_churn_rate"] == pytest.approx(1 / 6)
    assert row["clv"] == pytest.approx(890.0)
    assert row["cac"] == 400
    assert row["clv_cac_ratio"] == pytest.approx(890 / 400)
    assert value("clv", margin=0.8)["clv"] == pytest.approx(712.0)


def test_clv_pools_the_months_of_a_longer_period(book):
    # December: active at 12-01 = A 100, B 200, D 80, Up 100, Down 300, Addon 140 (6; 920 MRR); D leaves on 01-01.
    # January: 6 active at 01-01 (890 MRR), B churns.  Pooled: 2 churned / 12, ARPA = (920 + 890) / 12.
    row = value("clv", start=dt.date(2023, 12, 1))
    assert row["n_months"] == 2
    assert row["monthly_churn_rate"] == pytest.approx(2 / 12)
    assert row["arpa"] == pytest.approx(round(1810 / 12, 2))
    assert row["clv"] == pytest.approx(1810 / 12 / (2 / 12), abs=0.01)
    assert row["cac"] is None
    assert "cac" in row["reasons"]


def test_segment_owner_and_plan_filters(book, csm, teammate):
    enterprise = value("churn-rate", filters=KpiFilters(segments=("enterprise",)))
    assert (enterprise["n_start"], enterprise["n_churn"]) == (2, 1)
    by_id = value("churn-rate", filters=KpiFilters(owner=str(teammate.pk)))
    by_name = value("churn-rate", filters=KpiFilters(owner=teammate.username))
    me = value("churn-rate", filters=KpiFilters(owner="me", user_id=teammate.pk))
    assert by_id["n_start"] == by_name["n_start"] == me["n_start"] == 2
    mine = value("mrr-movements", filters=KpiFilters(owner=str(csm.pk)))
    assert mine["start_mrr"] == 590 and mine["new_mrr"] == 90
    unassigned = value("mrr-movements", filters=KpiFilters(owner="none"))
    assert unassigned["start_mrr"] == 0 and unassigned["new_mrr"] == 0  # Brief came and went
    pro = value("net-retention", filters=KpiFilters(plan="PRO"))
    assert (pro["start_mrr"], pro["retained_mrr"]) == (100, 150)


@pytest.mark.parametrize("name", ["churn-rate", "mrr-churn", "net-retention", "activity-churn", "arpa", "nps", "csat"])
def test_zero_denominators_are_null_with_a_reason(db, name):
    row = value(name, start=dt.date(2020, 1, 1), end=dt.date(2020, 2, 1))
    nulls = [key for key, v in row.items() if v is None]
    assert nulls, row
    assert set(nulls) <= set(row["reasons"])
    assert all(row["reasons"][key] for key in nulls)


def test_clv_without_churn_is_null_with_a_reason(db):
    sub(AccountFactory(), "2023-01-01", None, 100)
    row = value("clv")
    assert row["clv"] is None
    assert "unbounded" in row["reasons"]["clv"]
    assert row["arpa"] == 100


def test_series_has_a_row_per_month_including_empty_ones(book):
    rows = kpi_series(KPIS["churn-rate"], KpiQuery(start=dt.date(2023, 11, 1), end=dt.date(2024, 3, 1)), source="live")
    assert [(r["start"], r["end"]) for r in rows] == [
        (dt.date(2023, 11, 1), dt.date(2023, 12, 1)),
        (dt.date(2023, 12, 1), dt.date(2024, 1, 1)),
        (dt.date(2024, 1, 1), dt.date(2024, 2, 1)),
        (dt.date(2024, 2, 1), dt.date(2024, 3, 1)),
    ]
    assert [r["n_churn"] for r in rows] == [0, 1, 1, 0]  # D ends 2024-01-01, B ends 2024-02-01
    empty = kpi_series(KPIS["nps"], KpiQuery(start=dt.date(2023, 11, 1), end=dt.date(2024, 1, 1)), source="live")
    assert [r["n_responses"] for r in empty] == [0, 0]
    assert all(r["nps"] is None and r["reasons"]["nps"] for r in empty)


def test_series_periods_can_start_and_end_mid_month(book):
    rows = kpi_series(KPIS["arpa"], KpiQuery(start=dt.date(2024, 1, 15), end=dt.date(2024, 2, 10)), source="live")
    assert [(r["start"], r["end"]) for r in rows] == [
        (dt.date(2024, 1, 15), dt.date(2024, 2, 1)),
        (dt.date(2024, 2, 1), dt.date(2024, 2, 10)),
    ]


def test_cohort_retention_grid(db):
    jan_p, jan_q, jan_r = AccountFactory(), AccountFactory(), AccountFactory()
    sub(jan_p, "2024-01-10", None, 10)
    sub(jan_q, "2024-01-31", "2024-03-31", 10)  # +1 month = 02-29 (clamped): active; +2 = 03-31: ended that day
    sub(jan_r, "2024-01-15", "2024-02-15", 10)  # ends exactly on its first anniversary: inactive at k = 1
    feb_s, feb_t = AccountFactory(), AccountFactory()
    sub(feb_s, "2024-02-01", None, 10)
    sub(feb_t, "2024-02-10", "2024-03-01", 10)
    sub(feb_t, "2024-04-01", None, 10)  # reactivated: active again at +2 months (04-10)
    sub(AccountFactory(), "2023-12-20", None, 10)  # December cohort: before the period
    row = value("cohort-retention", start=dt.date(2024, 1, 1), end=dt.date(2024, 5, 1))
    jan, feb = row["cohorts"]
    # January: cells while 01-31 + k months <= 05-01 → k = 0…3.
    assert jan == {"cohort": "2024-01", "n_accounts": 3, "active": [3, 2, 1, 1],
                   "retention": [1.0, 2 / 3, 1 / 3, 1 / 3]}  # fmt: skip
    # February: 02-29 + k months <= 05-01 → k = 0…2.
    assert feb["active"] == [2, 1, 2]
    assert feb["retention"] == [1.0, 0.5, 1.0]


def test_cohort_retention_without_complete_cohorts_is_empty_with_a_reason(db):
    sub(AccountFactory(), "2024-01-10", None, 10)
    row = value("cohort-retention", start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 20))
    assert row["cohorts"] == []
    assert row["reasons"]["cohorts"]


def test_health_bands_count_accounts_that_have_not_churned(db):
    AccountFactory(health_band="green", mrr=100)
    AccountFactory(health_band="green", mrr=50)
    AccountFactory(health_band="red", mrr=10)
    AccountFactory(health_band="red", status="churned")
    AccountFactory(health_band="")
    row = kpi_value(KPIS["health-bands"], KpiQuery(start=None, end=None))
    bands = {b["band"]: (b["n_accounts"], b["mrr"]) for b in row["bands"]}
    assert bands == {"green": (2, 150.0), "yellow": (0, 0.0), "red": (1, 10.0), "unscored": (1, 0.0)}
    assert row["n_accounts"] == 4


def test_health_bands_before_any_score_say_why(db):
    AccountFactory(health_band="")
    row = kpi_value(KPIS["health-bands"], KpiQuery(start=None, end=None))
    assert row["reasons"]["bands"]


def test_csm_workload_per_owner(db, csm, teammate):
    mine = AccountFactory(owner=csm, mrr=300, status="at_risk")
    AccountFactory(owner=csm, mrr=100)
    AccountFactory(owner=csm, mrr=999, status="churned")
    theirs = AccountFactory(owner=teammate, mrr=50, health_band="red")
    TaskFactory(account=mine, assignee=csm, due_date=dt.date(2000, 1, 1))
    TaskFactory(account=mine, assignee=csm, due_date=dt.date(2999, 1, 1))
    TaskFactory(account=mine, assignee=csm, status="done")
    TaskFactory(account=theirs, assignee=teammate, due_date=None)
    AccountFactory(owner=None, mrr=10)
    owners = kpi_value(KPIS["csm-workload"], KpiQuery(start=None, end=None))["owners"]
    assert [(o["owner_id"], o["n_accounts"], o["mrr"], o["n_at_risk"], o["open_tasks"], o["overdue_tasks"])
            for o in owners] == [
        (csm.pk, 2, 400.0, 1, 2, 1),
        (teammate.pk, 1, 50.0, 1, 1, 0),
        (None, 1, 10.0, 0, 0, 0),
    ]  # fmt: skip
    only = kpi_value(KPIS["csm-workload"], KpiQuery(start=None, end=None, filters=KpiFilters(owner=str(teammate.pk))))
    assert [o["owner_id"] for o in only["owners"]] == [teammate.pk]


def test_kpis_are_computed_in_a_fixed_number_of_queries(book, django_assert_max_num_queries):
    for i in range(30):
        sub(AccountFactory(name=f"Extra {i}"), "2023-06-01", None, 10 + i)
    # The latest fact run, one grouped query over subscriptions, one for those priced in another currency.
    with django_assert_max_num_queries(3):
        value("churn-rate")
    with django_assert_max_num_queries(3):
        kpi_series(KPIS["net-retention"], KpiQuery(start=dt.date(2023, 1, 1), end=dt.date(2024, 1, 1)), source="live")


def test_many_dates_are_read_in_chunks_with_the_same_results(activity, monkeypatch):
    from dashboards.selectors import live

    query = KpiQuery(start=dt.date(2023, 6, 1), end=dt.date(2024, 3, 1), window=Window(30, "d"))
    expected = {name: kpi_series(KPIS[name], query, source="live") for name in ("mrr-movements", "activity-churn")}
    monkeypatch.setattr(live, "DATES_PER_QUERY", 3)
    for name, rows in expected.items():
        assert kpi_series(KPIS[name], query, source="live") == rows


def test_clv_over_a_century_answers(client, viewer, book):
    client.force_login(viewer)
    response = client.get("/api/v1/kpis/clv/", {"start": "1950-01-01", "end": "2050-01-01"})
    assert response.status_code == 200
    assert response.json()["n_months"] == 1200
