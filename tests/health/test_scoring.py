from __future__ import annotations

import math

import pandas as pd
import pytest
from django.utils import translation

from health import scoring

BANDS = scoring.Bands(70, 40)
FACTORS = [
    {"key": "active_days_30", "weight": 60, "method": "thresholds", "points": [[0, 0], [20, 100]]},
    {"key": "nps", "weight": 40, "method": "thresholds", "points": [[0, 0], [10, 100]]},
]


def test_thresholds_interpolate_linearly_and_are_flat_outside():
    values = pd.Series([-5, 0, 5, 10, 20, 40, math.nan])
    out = scoring.normalise_thresholds(values, [[0, 0], [10, 50], [20, 100]])
    assert out.iloc[:6].tolist() == [0, 0, 25, 50, 100, 100]
    assert math.isnan(out.iloc[6])


def test_decreasing_thresholds_for_lower_is_better_factors():
    out = scoring.normalise_thresholds(pd.Series([0, 7, 30, 90]), [[0, 100], [7, 80], [30, 0]])
    assert out.tolist() == [100, 80, 0, 0]


def test_percentile_against_peers_both_directions():
    values = pd.Series([1.0, 2.0, 3.0, 4.0, math.nan])
    assert scoring.normalise_percentile(values).iloc[:4].tolist() == [25, 50, 75, 100]
    assert scoring.normalise_percentile(values, higher_is_better=False).iloc[:4].tolist() == [100, 75, 50, 25]
    assert math.isnan(scoring.normalise_percentile(values).iloc[4])


def test_score_is_the_weighted_mean_and_contributions_add_up():
    metrics = pd.DataFrame({"active_days_30": [10], "nps": [10]}, index=[7])
    result = scoring.score_frame(metrics, FACTORS, BANDS)
    # 0.6 * 50 + 0.4 * 100 = 70
    assert result.score[7] == 70
    assert result.contribution.loc[7].tolist() == [30, 40]
    assert result.band[7] == "green"


def test_missing_factor_is_left_out_and_weights_renormalised():
    metrics = pd.DataFrame({"active_days_30": [10.0], "nps": [math.nan]}, index=[1])
    result = scoring.score_frame(metrics, FACTORS, BANDS)
    assert result.score[1] == 50
    assert result.share.loc[1, "active_days_30"] == 1.0
    assert result.missing(1) == ["nps"]
    assert math.isnan(result.contribution.loc[1, "nps"])


def test_factor_absent_from_metrics_counts_as_missing():
    result = scoring.score_frame(pd.DataFrame({"active_days_30": [20]}, index=[1]), FACTORS, BANDS)
    assert result.score[1] == 100 and result.missing(1) == ["nps"]


def test_no_factor_with_data_gives_no_score_and_no_band():
    metrics = pd.DataFrame({"active_days_30": [math.nan], "nps": [math.nan]}, index=[1])
    result = scoring.score_frame(metrics, FACTORS, BANDS)
    assert math.isnan(result.score[1]) and result.band[1] == ""


@pytest.mark.parametrize(
    ("score", "band"), [(100, "green"), (70, "green"), (69, "yellow"), (40, "yellow"), (39, "red"), (0, "red")]
)
def test_band_edges(score, band):
    assert scoring.band_for(score, BANDS) == band


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ([{"key": "nps", "weight": 0, "method": "thresholds", "points": [[0, 0], [10, 100]]}], "more than zero"),
        ([{"key": "nps", "weight": -5, "method": "thresholds", "points": [[0, 0], [10, 100]]}], "zero or more"),
        ([{"key": "nps", "weight": 1, "method": "thresholds", "points": [[10, 0], [0, 100]]}], "must increase"),
        ([{"key": "nps", "weight": 1, "method": "thresholds", "points": [[0, 0], [10, 120]]}], "between 0 and 100"),
        ([{"key": "nps", "weight": 1, "method": "thresholds", "points": [[0, 0]]}], "at least two"),
        ([{"key": "nope", "weight": 1, "method": "percentile"}], "Unknown factor"),
        ([{"key": "nps", "weight": "x", "method": "percentile"}], "not a number"),
        ([], "at least one factor"),
    ],
)
def test_invalid_profiles_are_rejected(factors, message):
    errors = scoring.validate_profile(factors, 70, 40)
    assert any(message in e for e in errors), errors


def test_bands_must_be_ordered():
    assert scoring.validate_profile(FACTORS, 40, 70)
    assert scoring.validate_profile(scoring.DEFAULT_FACTORS, 70, 40) == []


def test_changelog_names_the_factors_that_moved():
    old = {"active_days_30": [22, 100, 20.0], "tickets_30d": [0, 100, 8.0], "nps": [9, 90, 7.0]}
    new = {"active_days_30": [6, 40, 8.0], "tickets_30d": [2, 60, 2.0], "nps": [9, 90, 7.0]}
    text = scoring.explain_change(old, new, 80, 62)
    assert text == "score fell 18 points: active days 22→6 (−12), 2 new tickets (−6)"


def test_changelog_for_a_rise_and_for_a_missing_factor():
    text = scoring.explain_change({"nps": [None, None, None]}, {"nps": [10, 100, 9.5]}, 50, 60)
    assert text == "score rose 10 points: latest NPS –→10 (+10)"


def test_changelog_reads_in_the_readers_language():
    old = {"active_days_30": [22, 100, 20.0], "tickets_30d": [0, 100, 8.0]}
    new = {"active_days_30": [6, 40, 8.0], "tickets_30d": [1, 60, 2.0]}
    with translation.override("it"):
        assert scoring.explain_change(old, new, 80, 62).startswith("punteggio sceso di 18 punti: ")
        assert scoring.explain_change(old, new, 80, 62).endswith(", 1 nuovo ticket (−6)")
        assert scoring.explain_change({}, {}, None, 50) == "punteggio ora disponibile"
    with translation.override("bg"):
        assert scoring.explain_change(old, new, 62, 63).startswith("индексът се повиши с 1 точка")
        assert scoring.explain_change(old, new, 63, 63).startswith("индексът не се промени")
