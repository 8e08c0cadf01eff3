from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from health.backtest import backtest_profile
from health.scoring import Bands

FACTORS = [{"key": "active_days_30", "weight": 1, "method": "thresholds", "points": [[0, 0], [20, 100]]}]


def fixture_frame() -> pd.DataFrame:
    """Ten account-months with known outcomes: scores 10, 20, … 100; the four lowest churned, and one at 80."""
    days = [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    churned = [True, True, True, True, False, False, False, True, False, False]
    return pd.DataFrame(
        {
            "obs_date": [dt.date(2025, 1, 1)] * 5 + [dt.date(2025, 2, 1)] * 5,
            "active_days_30": [float(d) for d in days],
            "nps": [float("nan")] * 10,
            "label": churned,
        }
    )


def test_backtest_numbers_on_a_fixture_with_known_outcomes():
    result = backtest_profile(fixture_frame(), FACTORS, Bands(70, 40))
    assert (result["n"], result["churned"], result["months"]) == (10, 5, 2)
    # risk = 100 − score; pairs (churned, stayed) ranked right: 4×5 + 1×2 (the churner at 80 beats 90, 100) = 22/25
    assert result["auc"] == pytest.approx(22 / 25)
    bands = {b["band"]: (b["n"], b["churned"]) for b in result["per_band"]}
    assert bands == {"red": (3, 3), "yellow": (3, 1), "green": (4, 1)}
    at_50 = next(t for t in result["thresholds"] if t["threshold"] == 50)
    assert (at_50["flagged"], at_50["precision"], at_50["recall"]) == (4, 1.0, 0.8)
    assert result["signal"][0]["key"] == "active_days_30"
    assert result["signal"][0]["auc"] == pytest.approx(22 / 25)


def test_backtest_without_labelled_history_says_so():
    frame = fixture_frame().assign(label=None)
    assert "No labelled observations" in backtest_profile(frame, FACTORS, Bands())["message"]
