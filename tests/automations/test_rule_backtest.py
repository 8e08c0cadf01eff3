"""Rule backtest against a hand-computed history: planted health snapshots, subscriptions ending (churn), a rule
with a cooldown → the exact fires, precision, recall, lift and weekly load; then each leaf's historical reading."""

from __future__ import annotations

import datetime as dt

import pytest

from automations.backtest import BacktestInvalid, CannotBacktest, rule_backtest
from automations.rules import rule_save
from health.models import HealthProfile, HealthProfileVersion, HealthSnapshot, UsageDaily
from tests.factories import AccountFactory, SubscriptionFactory, SupportTicketFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 7, 1)  # 6 months: 2026-01-01 … 2026-06-30; 90 days of hindsight up to 2026-04-01
CREATED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _day(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def _account(name: str, *, churn_on: dt.date | None = None):
    account = AccountFactory(name=name, created_at=CREATED)
    SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1), end_date=churn_on)
    return account


def _snapshots(account, scores) -> None:
    """Daily snapshots from 2025-12-25 to the end: `scores(day)` each day."""
    version = HealthProfileVersion.objects.filter(status="published").first()
    if version is None:
        profile = HealthProfile.objects.create(name="Default")
        version = HealthProfileVersion.objects.create(profile=profile, number=1, status="published")
    day, rows = dt.date(2025, 12, 25), []
    while day < TODAY:
        rows.append(HealthSnapshot(account=account, day=day, version=version, score=scores(day)))
        day += dt.timedelta(days=1)
    HealthSnapshot.objects.bulk_create(rows)


@pytest.fixture
def book():
    """A: below 70 from 02-10 to 02-28, churns 03-20. B: below 70 from 03-20 on, stays. C: healthy, churns 04-10.
    D, E, F: healthy, stay."""
    a = _account("A", churn_on=_day(3, 20))
    _snapshots(a, lambda d: 50 if _day(2, 10) <= d <= _day(2, 28) else 80)
    b = _account("B")
    _snapshots(b, lambda d: 40 if d >= _day(3, 20) else 85)
    c = _account("C", churn_on=_day(4, 10))
    for name in ("C", "D", "E", "F"):
        account = c if name == "C" else _account(name)
        _snapshots(account, lambda d: 90)
    return {"a": a, "b": b, "c": c}


RULE = {
    "tree": {"type": "health_below", "value": 70},
    "actions_list": [{"type": "create_task", "title": "Call"}, {"type": "send_email", "template": "x"}],
    "cooldown_days": 14,
}


def test_hand_computed_case(book):
    result = rule_backtest(**RULE, months=6, today=TODAY)
    assert (result["start"], result["end"]) == (_day(1, 1), _day(6, 30))
    # A fires on 02-10 and 02-24 (14 days of cooldown); B on 03-20, 04-03, … 06-26 (8 fires).
    assert (result["fires"], result["accounts_fired"], result["accounts"]) == (10, 2, 6)
    # With 90 days of hindsight (fires up to 04-01): A's two (churn 38 and 24 days later) and B's first.
    assert (result["fires_with_hindsight"], result["fires_followed_by_churn"]) == (3, 2)
    assert result["precision"] == pytest.approx(2 / 3)
    # Base: of the account-days up to 04-01 before each churn (A 78, B 91, C 91, D–F 3 × 91 = 533), those with a
    # churn within 90 days ahead: all 78 of A's, and C's from 01-10 (82).
    assert result["base_rate"] == pytest.approx(160 / 533)
    assert result["lift"] == pytest.approx((2 / 3) / (160 / 533))
    assert (result["churned"], result["churned_caught"], result["fired_and_churned"]) == (2, 1, 1)
    assert result["recall"] == pytest.approx(1 / 2)  # A caught, C not
    assert result["not_fired_churn_rate"] == pytest.approx(1 / 4)  # C among C, D, E, F
    weekly = {row["week"]: (row["tasks"], row["emails"]) for row in result["weekly"]}
    assert len(weekly) == 27  # Monday 2025-12-29 … Monday 2026-06-29
    busy = {week for week, load in weekly.items() if load != (0, 0)}
    assert busy == {_day(2, 9), _day(2, 23), _day(3, 16), _day(3, 30), _day(4, 13), _day(4, 27), _day(5, 11),
                    _day(5, 25), _day(6, 8), _day(6, 22)}  # fmt: skip
    assert all(weekly[week] == (1, 1) for week in busy)
    assert result["tasks_per_week"] == result["emails_per_week"] == round(10 / 27, 2)
    first = [(row["name"], row["first_fired"], row["fires"], row["churned_within_90_days"], row["churned_on"])
             for row in result["first_fired"]]  # fmt: skip
    assert first == [("A", _day(2, 10), 2, True, _day(3, 20)), ("B", _day(3, 20), 8, False, None)]
    assert result["today_leaves"] == []


def test_cooldown_zero_fires_every_matching_day(book):
    result = rule_backtest(**{**RULE, "cooldown_days": 0}, months=6, today=TODAY)
    assert result["fires"] == 19 + 103  # A: 02-10 … 02-28; B: 03-20 … 06-30


def test_a_saved_rule_by_key_with_a_playbook_load(book):
    from automations.builtins import builtins_install

    builtins_install()
    rule_save(key="low-health", name="Low health", conditions_tree=RULE["tree"], cooldown_days=14,
              actions_list=[{"type": "enrol_playbook", "playbook": "purchase-thank-you"}])  # fmt: skip
    result = rule_backtest(rule="low-health", months=6, today=TODAY)
    assert result["fires"] == 10
    # The playbook sends an email at once and another one after its 7-day wait.
    assert sum(row["emails"] for row in result["weekly"]) == 10 + 9  # B's 06-26 follow-up falls after the window
    assert sum(row["tasks"] for row in result["weekly"]) == 0


def test_status_leaf_follows_the_subscriptions(book):
    tree = {"all": [RULE["tree"], {"type": "status", "in": ["active"]}]}
    book["a"].status = "churned"
    book["a"].save()
    result = rule_backtest(**{**RULE, "tree": tree}, months=6, today=TODAY)
    assert result["fires"] == 10  # A was still active (subscribed) while its health was low
    assert result["today_leaves"] == []


def test_today_value_leaves_are_reported(book):
    tree = {"all": [RULE["tree"], {"type": "segment", "in": ["smb"]}, {"type": "tag", "lacks": ["vip"]}]}
    result = rule_backtest(**{**RULE, "tree": tree}, months=6, today=TODAY)
    assert result["fires"] == 10
    assert result["today_leaves"] == ["segment", "tag"]


def test_ticket_and_survey_leaves(book):
    at = dt.datetime(2026, 5, 4, 9, tzinfo=dt.UTC)
    for hours in (0, 1, 2):
        SupportTicketFactory(account=book["c"], opened_at=at + dt.timedelta(hours=hours), status="closed",
                             resolved_at=at + dt.timedelta(days=1))  # fmt: skip
    SupportTicketFactory(account=book["b"], opened_at=at, status="open")
    storm = rule_backtest(tree={"type": "tickets_in_days", "count": 3, "days": 7}, months=3, today=TODAY)
    assert (storm["fires"], storm["first_fired"][0]["first_fired"]) == (1, _day(5, 4))
    stale = rule_backtest(tree={"type": "ticket_open_longer", "days": 5}, cooldown_days=100, months=3, today=TODAY)
    assert [(r["name"], r["first_fired"]) for r in stale["first_fired"]] == [("B", _day(5, 9))]
    SurveyResponseFactory(account=book["a"], score=3, responded_at=dt.datetime(2026, 4, 20, 10, tzinfo=dt.UTC))
    SurveyResponseFactory(account=book["a"], score=9, responded_at=dt.datetime(2026, 4, 25, 10, tzinfo=dt.UTC))
    nps = rule_backtest(tree={"type": "nps_at_most", "value": 6, "days": 30}, cooldown_days=0, months=3, today=TODAY)
    assert nps["fires"] == 5  # 04-20 … 04-24, until the later promoter answer


def test_inactive_days_from_the_rollups(book):
    UsageDaily.objects.bulk_create(
        [UsageDaily(account=book["b"], day=day, events=3) for day in (_day(3, 30), _day(5, 1))]
    )
    rule = {"type": "inactive_days", "days": 10}
    result = rule_backtest(tree={"all": [rule, {"type": "status", "in": ["active"]}]}, cooldown_days=1000,
                           months=3, today=TODAY)  # fmt: skip
    fired = {row["name"]: row["first_fired"] for row in result["first_fired"]}
    # Never-active accounts (created long ago) from the first day; B from 04-09 and again after 05-11.
    assert fired["B"] == _day(4, 9)
    assert fired["D"] == _day(4, 1)
    assert "C" in fired
    assert "A" not in fired  # churned (03-20) before the window: no longer "active"


def test_bad_input_is_refused_per_field(book):
    with pytest.raises(BacktestInvalid) as error:
        rule_backtest(rule="no-such-rule")
    assert list(error.value.errors) == ["rule"]
    with pytest.raises(BacktestInvalid) as error:
        rule_backtest(tree={"type": "nope"}, actions_list=[{"type": "nope"}], cooldown_days=-1)
    assert set(error.value.errors) == {"conditions", "actions", "cooldown_days"}
    for months in (0, 25, "12", True):
        with pytest.raises(BacktestInvalid) as error:
            rule_backtest(tree=RULE["tree"], months=months)
        assert list(error.value.errors) == ["months"]


def test_a_leaf_without_history_cannot_be_backtested(book, monkeypatch):
    from automations.backtest import evaluate

    monkeypatch.delitem(evaluate.HISTORY, "milestone_missed")
    with pytest.raises(CannotBacktest, match="milestone_missed"):
        rule_backtest(tree={"any": [RULE["tree"], {"type": "milestone_missed"}]}, months=3, today=TODAY)


def test_renewal_purchase_and_mrr_leaves(book):
    monthly = _account("M")
    monthly.subscriptions.update(start_date=dt.date(2025, 1, 15))
    annual = _account("Y")
    annual.subscriptions.update(start_date=dt.date(2025, 6, 30), billing_period=12)
    renewals = rule_backtest(tree={"type": "renewal_within", "days": 5}, cooldown_days=0, months=3, today=TODAY)
    fires = {row["name"]: (row["first_fired"], row["fires"]) for row in renewals["first_fired"]}
    # Monthly on the 15th: 5 days before each of 04-15, 05-15, 06-15; annual: the 5 days before 06-30.
    assert fires["M"] == (_day(4, 10), 15)
    assert fires["Y"] == (_day(6, 25), 5)
    SubscriptionFactory(account=book["b"], start_date=_day(5, 3), mrr=50)
    bought = rule_backtest(tree={"type": "purchase_within", "days": 2}, cooldown_days=0, months=3, today=TODAY)
    assert [(r["name"], r["first_fired"], r["fires"]) for r in bought["first_fired"]] == [("B", _day(5, 3), 3)]
    big = rule_backtest(tree={"type": "mrr_at_least", "value": 150}, cooldown_days=0, months=3, today=TODAY)
    assert [(r["name"], r["first_fired"]) for r in big["first_fired"]] == [("B", _day(5, 3))]


def test_payment_failed_until_the_next_successful_payment(book):
    from accounts.models import BillingEvent

    for kind, day in (("payment_failed", 1), ("payment_succeeded", 4)):
        BillingEvent.objects.create(account=book["b"], kind=kind, source_event_id=f"ev-{kind}",
                                    occurred_at=dt.datetime(2026, 5, day, 10, tzinfo=dt.UTC))  # fmt: skip
    open_ended = rule_backtest(tree={"type": "payment_failed"}, cooldown_days=0, months=3, today=TODAY)
    assert [(r["name"], r["first_fired"], r["fires"]) for r in open_ended["first_fired"]] == [("B", _day(5, 1), 3)]
    recent = rule_backtest(tree={"type": "payment_failed", "days": 1}, cooldown_days=0, months=3, today=TODAY)
    assert recent["fires"] == 1
