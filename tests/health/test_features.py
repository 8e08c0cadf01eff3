from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from health.features.inputs import Facts, empty_facts, facts_until
from health.features.names import catalogue
from health.features.observations import build_observations, month_starts
from tests.health.lab_data import end_of, planted_facts


def small_facts() -> Facts:
    facts = empty_facts()
    facts.subscriptions = pd.DataFrame(
        [(1, "pro", dt.date(2025, 1, 1), None, 100.0, 2, 1), (2, "starter", dt.date(2025, 1, 1), dt.date(2025, 5, 10),
                                                                50.0, 1, 12)],
        columns=["account_id", "product", "start_date", "end_date", "mrr", "quantity", "billing_period"],
    )  # fmt: skip
    days = pd.date_range("2025-01-01", "2025-06-30").date
    facts.daily = pd.DataFrame(
        [(a, d, t, 1) for a in (1, 2) for d in days for t in ("login", "sent")
         if not (a == 2 and d > dt.date(2025, 3, 1) and t == "sent")],
        columns=["account_id", "day", "event_type", "n"],
    )  # fmt: skip
    facts.activity = (
        facts.daily.groupby(["account_id", "day"], as_index=False)["n"].sum().rename(columns={"n": "events"})
    ).assign(active_users=2)
    facts.tickets = pd.DataFrame({"account_id": [2, 2], "day": [dt.date(2025, 3, 20), dt.date(2025, 4, 1)]})
    facts.surveys = pd.DataFrame(
        {
            "account_id": [2, 2],
            "kind": ["nps", "nps"],
            "score": [9, 3],
            "day": [dt.date(2025, 2, 1), dt.date(2025, 4, 1)],
        }
    )
    facts.accounts = pd.DataFrame({"account_id": [1, 2], "created_day": [dt.date(2025, 1, 1)] * 2})
    return facts


def observations(facts: Facts, today: dt.date = dt.date(2025, 7, 1)) -> pd.DataFrame:
    frame, _names = build_observations(
        facts, obs_dates=month_starts(dt.date(2025, 1, 1), today), today=today, horizons=(30, 60, 90),
        ratios=[("sent", "login")],
    )  # fmt: skip
    return frame.set_index(["obs_date", "account_id"])


def test_per_event_type_metrics_as_of_the_observation_date():
    row = observations(small_facts()).loc[(dt.date(2025, 4, 1), 2)]
    assert row["n28:login"] == 28 and row["n28:sent"] == 0  # the 28 days before April 1
    assert row["since:sent"] == 30  # last sent on March 1, counted on March 31
    assert row["pu28:login"] == pytest.approx(28 / 56)  # per active user-day (2 users a day)
    assert row["pm28:login"] == pytest.approx(28 / 50 * 100)  # per $100 MRR
    assert row["ratio:sent/login"] == 0
    assert row["chg:sent"] < -1  # January had it every day
    assert row["tickets_28"] == 1  # the ticket opened on April 1 itself is not known yet
    assert row["nps"] == 9  # the April 1 answer is not known yet either
    assert row["mrr"] == 50 and row["seats"] == 1 and row["billing_period"] == 12 and row["plan"] == "starter"
    assert row["tenure_days"] == 90


def test_labels_per_horizon_only_once_the_horizon_has_passed():
    frame = observations(small_facts())
    assert frame.loc[(dt.date(2025, 4, 1), 2), ["label_30", "label_60", "label_90"]].tolist() == [False, True, True]
    assert frame.loc[(dt.date(2025, 6, 1), 1), "label_30"] is False
    assert frame.loc[(dt.date(2025, 6, 1), 1), "label_60"] is None
    assert (dt.date(2025, 6, 1), 2) not in frame.index  # no longer active: not observed


def test_nothing_dated_on_or_after_the_observation_date_changes_its_features():
    facts = small_facts()
    before = observations(facts).loc[(dt.date(2025, 4, 1), 2)]
    later = pd.DataFrame({"account_id": 2, "day": [dt.date(2025, 4, 1), dt.date(2025, 4, 15)], "event_type": "sent",
                          "n": 50})  # fmt: skip
    facts.daily = pd.concat([facts.daily, later], ignore_index=True)
    after = observations(facts).loc[(dt.date(2025, 4, 1), 2)]
    pd.testing.assert_series_equal(before, after)


def test_as_of_a_past_day_the_later_facts_are_unknown():
    facts = facts_until(small_facts(), dt.date(2025, 3, 15))
    assert facts.daily["day"].max() == dt.date(2025, 3, 15)
    assert facts.subscriptions["end_date"].isna().all()  # the May end date was not known on March 15
    frame = observations(small_facts(), today=dt.date(2025, 3, 15))
    assert frame.index.get_level_values("obs_date").max() == dt.date(2025, 3, 1)
    assert frame.loc[(dt.date(2025, 2, 1), 2), "label_30"] is False  # known by March 3, and still active then
    assert frame.loc[(dt.date(2025, 3, 1), 2), "label_30"] is None  # March 31 lies after March 15


def test_attributes_without_history_never_reach_an_observation():
    facts, _churn = planted_facts(n=60, days=300)
    frame, names = build_observations(
        facts, obs_dates=month_starts(end_of(300) - dt.timedelta(days=200), end_of(300)), today=end_of(300),
        horizons=(90,),
    )  # fmt: skip
    leaked = [c for c in frame.columns if "cancel" in c or "segment" in c or "employees" in c or "custom" in c]
    assert leaked == []
    assert not any("cancel" in label or "segment" in label for label in names.values())
    assert "plan" in frame  # plan comes from the dated subscription rows


def test_catalogue_has_a_readable_name_for_every_column():
    facts = small_facts()
    frame, names = build_observations(
        facts, obs_dates=[dt.date(2025, 4, 1)], today=dt.date(2025, 7, 1), horizons=(90,), ratios=[("sent", "login")]
    )
    assert names == catalogue(["login", "sent"], [("sent", "login")])
    numeric = [c for c in frame.columns if c not in ("obs_date", "account_id", "plan", "label_90")]
    assert set(numeric) == set(names)
    assert names["chg:sent"] == "change in sent vs 3 months ago"
