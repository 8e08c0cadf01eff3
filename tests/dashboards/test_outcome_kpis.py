"""Onboarding funnel and win-back results: the reads the dashboard uses, against hand-counted fixtures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account
from tests.factories import AccountFactory
from tests.winback.factories import CampaignFactory, ChurnRecordFactory
from winback.models import CampaignEnrollment, Reactivation
from winback.selectors import results as winback

pytestmark = pytest.mark.django_db

S, E = dt.date(2024, 1, 1), dt.date(2024, 2, 1)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def winbacks(db):
    """Churn records and reactivations around [2024-01-01, 2024-02-01):

    | account | segment    | churned    | MRR lost | contacted by       | reactivated          |
    |---------|------------|------------|----------|--------------------|----------------------|
    | p       | smb        | 2024-01-05 | 100      | discount (Jan 10)  | 2024-01-20, 80, disc |
    | q       | smb        | 2024-01-10 | 200      | discount (Jan 12)  | —                    |
    | r       | enterprise | 2024-01-15 | 300      | plan change (Jan 16)| 2024-02-10 (after E)|
    | old     | smb        | 2023-11-01 | 50       | —                  | 2024-01-25, 40, none |
    | late    | smb        | 2024-02-03 | 70       | —                  | —                    |

    Churned in the period: p, q, r (600 MRR); won back before E: p. Reactivations in the period: p and old
    (120 MRR). Discount: 2 contacted, 1 reactivated (80); plan change: 1 contacted, 0 in the period.
    """
    smb = {"segment": "smb"}
    a = {name: AccountFactory(name=name, status="churned", **({"segment": "enterprise"} if name == "r" else smb))
         for name in ("p", "q", "r", "old", "late")}  # fmt: skip
    rec = {
        name: ChurnRecordFactory(account=a[name], churned_on=day, mrr_lost=Decimal(mrr))
        for name, day, mrr in (("p", dt.date(2024, 1, 5), 100), ("q", dt.date(2024, 1, 10), 200),
                               ("r", dt.date(2024, 1, 15), 300), ("old", dt.date(2023, 11, 1), 50),
                               ("late", dt.date(2024, 2, 3), 70))
    }  # fmt: skip
    discount = CampaignFactory(offer="discount")
    plan = CampaignFactory(offer="plan_change")
    for name, campaign, day, status in (("p", discount, dt.date(2024, 1, 10), "converted"),
                                        ("q", discount, dt.date(2024, 1, 12), "contacted"),
                                        ("r", plan, dt.date(2024, 1, 16), "contacted")):  # fmt: skip
        CampaignEnrollment.objects.create(
            campaign=campaign, churn_record=rec[name], account=a[name], status=status, enrolled_at=at(day)
        )
    for name, day, mrr, campaign in (("p", dt.date(2024, 1, 20), 80, discount), ("r", dt.date(2024, 2, 10), 90, plan),
                                     ("old", dt.date(2024, 1, 25), 40, None)):  # fmt: skip
        Reactivation.objects.create(
            churn_record=rec[name], account=a[name], reactivated_on=day, mrr_won_back=Decimal(mrr), campaign=campaign
        )
    return a


def test_winback_results_of_the_period(winbacks):
    row = winback.winback_results(start=S, end=E)
    assert (row["n_churned"], row["churned_mrr"], row["n_won_back"]) == (3, 600, 1)
    assert (row["n_reactivated"], row["mrr_won_back"]) == (2, 120)
    offers = {o["offer"]: o for o in row["offers"]}
    assert (offers["discount"]["contacted"], offers["discount"]["reactivated"], offers["discount"]["mrr_won_back"]) == (
        2,
        1,
        80,
    )
    assert (offers["plan_change"]["contacted"], offers["plan_change"]["reactivated"]) == (1, 0)
    assert offers["pause"]["contacted"] == 0


def test_winback_results_in_scope(winbacks):
    ent = Account.objects.filter(segment="enterprise").values("pk")
    row = winback.winback_results(start=S, end=E, accounts=ent)
    assert (row["n_churned"], row["n_won_back"], row["n_reactivated"]) == (1, 0, 0)
    ids = [r["account_id"] for r in winback.reactivated_accounts(start=S, end=E)]
    assert ids == [winbacks["old"].pk, winbacks["p"].pk]


def kpi(name: str, start=S, end=E, **options):
    from dashboards.catalog import KPIS, kpi_value
    from dashboards.params import KpiQuery

    return kpi_value(KPIS[name], KpiQuery(start=start, end=end, **options), source="live")


def test_winback_results_kpi(winbacks):
    row = kpi("winback-results")
    assert (row["n_churned"], row["churned_mrr"], row["n_won_back"]) == (3, 600, 1)
    assert row["winback_rate"] == pytest.approx(1 / 3)
    assert (row["n_reactivated"], row["mrr_won_back"]) == (2, 120)
    offers = {o["offer"]: o for o in row["offers"]}
    assert offers["discount"]["conversion_rate"] == pytest.approx(1 / 2)
    assert offers["plan_change"]["conversion_rate"] == 0
    assert offers["pause"]["conversion_rate"] is None


def test_winback_results_kpi_without_churn(winbacks):
    row = kpi("winback-results", start=dt.date(2023, 6, 1), end=dt.date(2023, 7, 1))
    assert row["winback_rate"] is None and row["reasons"]["winback_rate"] == "No account churned in the period."


@pytest.fixture
def onboarding(db):
    """An onboarding journey (setup → first value → paid) and accounts created in January 2024:

    | account | segment    | created | setup          | first value       | paid   |
    |---------|------------|---------|----------------|-------------------|--------|
    | fast    | smb        | Jan 3   | day 1          | day 3             | day 10 |
    | slow    | smb        | Jan 10  | day 5          | missed            | —      |
    | stuck   | enterprise | Jan 20  | —              | —                 | —      |
    | earlier | smb        | Dec 20  | day 1          | day 2             | day 3  |  (not in the period)
    """
    from automations.models import Journey, Milestone, MilestoneProgress

    journey = Journey.objects.create(key="onboarding-test", name="Onboarding", onboarding=True)
    setup, value, paid = (
        Milestone.objects.create(journey=journey, key=key, name=name, order=i, first_value=key == "value")
        for i, (key, name) in enumerate((("setup", "Setup"), ("value", "First value"), ("paid", "Paid")), 1)
    )
    plan = {
        "fast": ("smb", dt.date(2024, 1, 3), {setup: 1, value: 3, paid: 10}, ()),
        "slow": ("smb", dt.date(2024, 1, 10), {setup: 5}, (value,)),
        "stuck": ("enterprise", dt.date(2024, 1, 20), {}, ()),
        "earlier": ("smb", dt.date(2023, 12, 20), {setup: 1, value: 2, paid: 3}, ()),
    }
    accounts = {}
    for name, (segment, created, reached, missed) in plan.items():
        account = accounts[name] = AccountFactory(name=name, segment=segment, created_at=at(created))
        for milestone in (setup, value, paid):
            days = reached.get(milestone)
            MilestoneProgress.objects.create(
                account=account, milestone=milestone, started_at=at(created),
                reached_at=at(created + dt.timedelta(days=days)) if days is not None else None,
                missed_at=at(created + dt.timedelta(days=14)) if milestone in missed else None,
            )  # fmt: skip
    return {"journey": journey, "milestones": (setup, value, paid), **accounts}


def test_onboarding_funnel_kpi_counts_the_period_signups(onboarding):
    row = kpi("onboarding-funnel")
    assert row["n_accounts"] == 3
    (journey,) = row["journeys"]
    assert journey["journey"] == "Onboarding" and journey["n_accounts"] == 3
    steps = [(s["milestone"], s["reached"], s["missed"], s["median_days"]) for s in journey["steps"]]
    assert steps == [("Setup", 2, 0, 3.0), ("First value", 1, 1, 3.0), ("Paid", 1, 0, 10.0)]
    assert [s["share"] for s in journey["steps"]] == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    assert journey["stall"] == "Setup"  # 1/3 drop at the first step, as much as at the second: the first wins
    assert journey["time_to_first_value_days"] == 3.0


def test_onboarding_funnel_kpi_filters_and_empty(onboarding):
    from dashboards.params import KpiFilters

    ent = kpi("onboarding-funnel", filters=KpiFilters(segments=("enterprise",)))
    assert ent["n_accounts"] == 1 and [s["reached"] for s in ent["journeys"][0]["steps"]] == [0, 0, 0]
    none = kpi("onboarding-funnel", start=dt.date(2022, 1, 1), end=dt.date(2022, 2, 1))
    assert none["n_accounts"] == 0 and "signed up" in none["reasons"]["journeys"]


def test_onboarding_funnel_kpi_without_journeys(db):
    row = kpi("onboarding-funnel")
    assert row["journeys"] == [] and "No onboarding journey" in row["reasons"]["journeys"]


def test_onboarding_funnel_never_rises_an_account_past_a_step_has_reached_it(onboarding):
    """An account that reached "Paid" without "First value" being marked has passed "First value"."""
    from automations.models import MilestoneProgress
    from automations.selectors import journey_funnel, milestone_accounts
    from dashboards.services import kpi_facts_refresh

    setup, value, paid = onboarding["milestones"]
    slow = onboarding["slow"]
    MilestoneProgress.objects.filter(account=slow, milestone=paid).update(
        reached_at=at(dt.date(2024, 1, 30)), missed_at=None
    )
    live = kpi("onboarding-funnel")
    steps = [(s["milestone"], s["reached"], s["missed"]) for s in live["journeys"][0]["steps"]]
    # slow reached Paid: it counts for every step before too, and its "First value" is no longer missed.
    assert steps == [("Setup", 2, 0), ("First value", 2, 0), ("Paid", 2, 0)]
    shares = [s["share"] for s in live["journeys"][0]["steps"]]
    assert shares == sorted(shares, reverse=True)
    assert set(milestone_accounts(milestone=value, reached=True)) == {onboarding["fast"].pk, slow.pk,
                                                                       onboarding["earlier"].pk}  # fmt: skip
    # The journey page (all cohorts) follows the same definition, and never shows a negative drop-off.
    page = journey_funnel(journey=onboarding["journey"])
    assert [s["reached"] for s in page["steps"]] == [3, 3, 3]
    assert all(s["drop"] >= 0 for s in page["steps"])
    # The facts path adds up to the same funnel.
    from dashboards.catalog import KPIS, kpi_value
    from dashboards.params import KpiQuery

    kpi_facts_refresh(today=dt.date(2024, 3, 1))
    facts = kpi_value(KPIS["onboarding-funnel"], KpiQuery(start=S, end=E), source="facts")
    assert [(s["milestone"], s["reached"], s["missed"]) for s in facts["journeys"][0]["steps"]] == steps
