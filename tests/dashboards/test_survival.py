"""The Kaplan–Meier estimator against curves computed by hand (ties, censoring, empty input)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboards.kpis.survival import kaplan_meier, median_lifetime, survival_at


def lifetimes(rows: list[tuple[float, bool]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["duration", "event"])


def test_curve_with_ties_and_censoring_matches_the_hand_computation():
    # Durations 1, 2, 2(censored), 3, 4, 4, 5(censored), 6(censored):
    # t=1: 8 at risk, 1 churn → 7/8 = 0.875
    # t=2: 7 at risk, 1 churn, 1 censored (still at risk at 2) → 0.875 × 6/7 = 0.75
    # t=3: 5 at risk, 1 churn → 0.75 × 4/5 = 0.6
    # t=4: 4 at risk, 2 churns (a tie) → 0.6 × 2/4 = 0.3
    # t=5: 2 at risk, censored only → 0.3;  t=6: 1 at risk, censored → 0.3
    curve = kaplan_meier(
        lifetimes([(1, True), (2, True), (2, False), (3, True), (4, True), (4, True), (5, False), (6, False)])
    )
    assert curve["time"].tolist() == [1, 2, 3, 4, 5, 6]
    assert curve["at_risk"].tolist() == [8, 7, 5, 4, 2, 1]
    assert curve["events"].tolist() == [1, 1, 1, 2, 0, 0]
    assert curve["censored"].tolist() == [0, 1, 0, 0, 1, 1]
    assert curve["survival"].tolist() == pytest.approx([0.875, 0.75, 0.6, 0.3, 0.3, 0.3])
    assert median_lifetime(curve) == 4
    assert survival_at(curve, 0.5) == 1.0
    assert survival_at(curve, 3.5) == pytest.approx(0.6)


def test_censoring_tied_with_a_churn_leaves_after_it():
    # Both at t=10: the censored account counts as at risk, so S = 1 − 1/2, not 1 − 1/1.
    curve = kaplan_meier(lifetimes([(10, True), (10, False)]))
    assert curve[["at_risk", "events", "censored"]].values.tolist() == [[2, 1, 1]]
    assert curve["survival"].tolist() == [0.5]


def test_no_churn_keeps_survival_at_one_and_no_median():
    curve = kaplan_meier(lifetimes([(3, False), (7, False)]))
    assert curve["survival"].tolist() == [1.0, 1.0]
    assert median_lifetime(curve) is None


def test_everyone_churning_ends_at_zero():
    curve = kaplan_meier(lifetimes([(1, True), (2, True)]))
    assert curve["survival"].tolist() == [0.5, 0.0]


def test_empty_input_gives_an_empty_curve():
    curve = kaplan_meier(lifetimes([]))
    assert curve.empty and list(curve.columns) == ["time", "at_risk", "events", "censored", "survival"]
    assert median_lifetime(curve) is None


def test_negative_durations_are_refused():
    with pytest.raises(ValueError):
        kaplan_meier(lifetimes([(-1, True)]))


@given(st.lists(st.tuples(st.integers(0, 400), st.booleans()), min_size=1, max_size=60))
def test_survival_is_non_increasing_within_zero_and_one(rows):
    curve = kaplan_meier(lifetimes(rows))
    survival = curve["survival"].tolist()
    assert all(0 <= s <= 1 for s in survival)
    assert all(a >= b for a, b in zip(survival, survival[1:], strict=False))
    assert curve["events"].sum() + curve["censored"].sum() == len(rows)
    # Without censoring, KM is the empirical share still alive.
    if all(event for _, event in rows):
        last = max(d for d, _ in rows)
        assert survival_at(curve, last) == pytest.approx(0.0)
