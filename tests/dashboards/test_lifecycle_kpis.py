"""Purchase CLV, repeat purchase rate and the Kaplan–Meier retention KPI against hand-computed fixtures."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from accounts.models import BillingEvent
from dashboards.catalog import KPIS, kpi_series, kpi_value
from dashboards.kpis.formulas import DAYS_PER_MONTH
from dashboards.params import KpiFilters, KpiQuery
from tests.dashboards.conftest import E, S, at, sub
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
_ids = itertools.count()


def value(name: str, start=S, end=E, **options):
    return kpi_value(KPIS[name], KpiQuery(start=start, end=end, **options), source="live")


def pay(account, when: str, amount, kind: str = "payment_succeeded") -> None:
    BillingEvent.objects.create(
        account=account, kind=kind, occurred_at=at(when), amount=None if amount is None else Decimal(amount),
        currency="usd", source_event_id=f"evt_{next(_ids)}",
    )  # fmt: skip


@pytest.fixture
def purchases(book):
    """Paid invoices around January 2024 (31 days), beside the `book` subscriptions (monthly churn 1 of 6):

    | account | invoices                                                                  | counted     |
    |---------|---------------------------------------------------------------------------|-------------|
    | p1 smb  | 100 (Jan 5), 50 (Jan 20)                                                  | 2, 150      |
    | p2 smb  | 300 (Jan 10)                                                              | 1, 300      |
    | p3 smb  | 40 (Jan 31 23:00), 60 (Feb 1 00:00, after the period)                     | 1, 40       |
    | p4 smb  | failed 100, succeeded without amount, succeeded 0                         | none        |
    | p5 ent  | 500 (Dec 31)                                                              | none        |

    4 purchases, 490 revenue, 3 customers, 1 with more than one.
    """
    smb = {"segment": "smb"}
    p = {name: AccountFactory(name=name, **smb) for name in ("p1", "p2", "p3", "p4")}
    p["p5"] = AccountFactory(name="p5", segment="enterprise")
    pay(p["p1"], "2024-01-05T10:00", 100)
    pay(p["p1"], "2024-01-20T10:00", 50)
    pay(p["p2"], "2024-01-10T10:00", 300)
    pay(p["p3"], "2024-01-31T23:00", 40)
    pay(p["p3"], "2024-02-01T00:00", 60)
    pay(p["p4"], "2024-01-10T10:00", 100, kind="payment_failed")
    pay(p["p4"], "2024-01-11T10:00", None)
    pay(p["p4"], "2024-01-12T10:00", 0)
    pay(p["p5"], "2023-12-31T10:00", 500)
    return p


def test_purchase_clv_multiplies_value_frequency_and_lifespan(purchases):
    row = value("purchase-clv")
    assert (row["n_purchases"], row["n_customers"], row["revenue"]) == (4, 3, 490)
    assert row["average_purchase_value"] == 122.5
    frequency = (4 / 3) / (31 / DAYS_PER_MONTH)  # purchases per customer per month
    assert row["purchase_frequency"] == pytest.approx(frequency)
    assert row["monthly_churn_rate"] == pytest.approx(1 / 6)  # the book: B churned of 6 active on Jan 1
    assert row["average_lifespan_months"] == pytest.approx(6)
    assert row["purchase_clv"] == pytest.approx(122.5 * frequency * 6, abs=0.01)
    assert row["reasons"] == {}


def test_repeat_purchase_rate(purchases):
    row = value("repeat-purchase-rate")
    assert (row["n_customers"], row["n_repeat"], row["n_purchases"]) == (3, 1, 4)
    assert row["repeat_purchase_rate"] == pytest.approx(1 / 3)


def test_purchases_are_filtered_by_segment(purchases):
    ent = value("repeat-purchase-rate", start=dt.date(2023, 12, 1), filters=KpiFilters(segments=("enterprise",)))
    assert (ent["n_customers"], ent["n_repeat"]) == (1, 0)
    assert ent["repeat_purchase_rate"] == 0


def test_no_purchases_give_nulls_with_reasons(book):
    row = value("purchase-clv")
    assert row["purchase_clv"] is None and row["average_purchase_value"] is None
    assert "paid invoice" in row["reasons"]["purchase_clv"]
    assert row["average_lifespan_months"] == pytest.approx(6)  # the lifespan does not need purchases
    rate = value("repeat-purchase-rate")
    assert rate["repeat_purchase_rate"] is None and rate["reasons"]["repeat_purchase_rate"]


def test_purchase_clv_without_churn_has_an_unbounded_lifespan(purchases):
    # February 2024 in the book: nobody active on Feb 1 churns by Mar 1.
    row = value("purchase-clv", start=dt.date(2024, 2, 1), end=dt.date(2024, 3, 1))
    assert row["monthly_churn_rate"] == 0
    assert row["average_lifespan_months"] is None and "unbounded" in row["reasons"]["average_lifespan_months"]
    assert row["purchase_clv"] is None and row["n_purchases"] == 1  # p3's invoice of Feb 1


def test_purchase_series_has_a_row_per_month(purchases):
    rows = kpi_series(KPIS["repeat-purchase-rate"], KpiQuery(start=dt.date(2023, 12, 1), end=E), source="live")
    assert [(r["start"], r["n_customers"], r["n_repeat"]) for r in rows] == [
        (dt.date(2023, 12, 1), 1, 0),
        (S, 3, 1),
    ]


KM_S, KM_E = dt.date(2024, 1, 1), dt.date(2024, 7, 1)


@pytest.fixture
def lifetimes(db):
    """First subscriptions in [2024-01-01, 2024-07-01), observed on 2024-07-01:

    | account | subscriptions                                         | lifetime          |
    |---------|-------------------------------------------------------|-------------------|
    | a1      | Jan 1 → Jan 31                                        | 30 days, churned  |
    | a7      | Mar 2 → Apr 1, add-on Mar 2 → Mar 20                  | 30 days, churned  |
    | a8 ent  | May 1 → Jun 1                                         | 31 days, churned  |
    | a2      | Jan 1 → Mar 1                                         | 60 days, churned  |
    | a3      | Feb 1 → Apr 1                                         | 60 days, churned  |
    | a6      | Apr 1 → Sep 1 (ends after the end date)               | 91 days, censored |
    | a5      | Mar 1 → May 1, back from Jun 1 (open): active on Jul 1 | 122 days, censored|
    | a4      | Feb 1, open                                           | 151 days, censored|
    | old     | since 2023-06-01 (first subscription before start)    | not counted       |
    | later   | from Jul 1 (the end date)                             | not counted       |

    KM: t=30: 8 at risk, 2 churn → 0.75; t=31: 6, 1 → 0.625; t=60: 5, 2 → 0.375; then censored only.
    """
    rows = {
        "a1": [("2024-01-01", "2024-01-31")],
        "a7": [("2024-03-02", "2024-04-01"), ("2024-03-02", "2024-03-20")],
        "a8": [("2024-05-01", "2024-06-01")],
        "a2": [("2024-01-01", "2024-03-01")],
        "a3": [("2024-02-01", "2024-04-01")],
        "a6": [("2024-04-01", "2024-09-01")],
        "a5": [("2024-03-01", "2024-05-01"), ("2024-06-01", None)],
        "a4": [("2024-02-01", None)],
        "old": [("2023-06-01", None)],
        "later": [("2024-07-01", None)],
    }
    accounts = {}
    for name, subs in rows.items():
        accounts[name] = AccountFactory(name=name, segment="enterprise" if name == "a8" else "smb")
        for start, end in subs:
            sub(accounts[name], start, end, 100)
    return accounts


def test_survival_curve_matches_the_hand_computation(lifetimes):
    row = value("survival", start=KM_S, end=KM_E)
    assert (row["n_accounts"], row["n_churned"], row["n_censored"]) == (8, 5, 3)
    assert [(p["day"], p["at_risk"], p["events"], p["censored"]) for p in row["curve"]] == [
        (30, 8, 2, 0),
        (31, 6, 1, 0),
        (60, 5, 2, 0),
        (91, 3, 0, 1),
        (122, 2, 0, 1),
        (151, 1, 0, 1),
    ]
    assert [p["survival"] for p in row["curve"]] == pytest.approx([0.75, 0.625, 0.375, 0.375, 0.375, 0.375])
    assert row["median_lifetime_months"] == round(60 / DAYS_PER_MONTH, 2)
    assert row["survival_3m"] == pytest.approx(0.375)  # 91.3 days: after the censoring at 91
    assert row["survival_6m"] is None and "6 months" in row["reasons"]["survival_6m"]


def test_survival_is_filtered_and_empty_periods_say_why(lifetimes):
    ent = value("survival", start=KM_S, end=KM_E, filters=KpiFilters(segments=("enterprise",)))
    assert [(p["day"], p["survival"]) for p in ent["curve"]] == [(31, 0.0)]
    empty = value("survival", start=dt.date(2020, 1, 1), end=dt.date(2020, 2, 1))
    assert empty["n_accounts"] == 0 and empty["curve"] == []
    assert empty["median_lifetime_months"] is None and empty["reasons"]["median_lifetime_months"]


def test_survival_observed_at_an_earlier_end_censors_later_churns(lifetimes):
    # Observed on Mar 1: a2's subscription ends exactly then, so it churned at 60 days; a3 and a4 are still
    # active (censored at 29 days), a5 and a7 start after the end.
    row = value("survival", start=KM_S, end=dt.date(2024, 3, 1))
    assert [(p["day"], p["events"], p["censored"]) for p in row["curve"]] == [(29, 0, 2), (30, 1, 0), (60, 1, 0)]
