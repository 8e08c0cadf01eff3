from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from health import model as churn
from health.metrics import METRIC_KEYS


def synthetic(n_per_month: int = 150, months: int = 8, seed: int = 1) -> pd.DataFrame:
    """Observations where low active days and many tickets cause churn; everything else is noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(months):
        obs = dt.date(2025, 1 + m, 1)
        for i in range(n_per_month):
            active = rng.integers(0, 31)
            tickets = rng.poisson(1.5)
            logit = -1.0 - 0.15 * (active - 15) + 0.5 * (tickets - 1.5)
            row = {k: float(rng.normal()) for k in METRIC_KEYS}
            row.update(
                obs_date=obs,
                account_id=m * 1000 + i,
                active_days_30=float(active),
                tickets_30d=float(tickets),
                nps=np.nan if i % 3 else float(rng.integers(0, 11)),
                mrr=float(rng.choice([50, 200, 1000])),
                silent_churn=0.0,
                segment=rng.choice(["smb", "mid_market"]),
                plan=rng.choice(["starter", "growth"]),
                custom_attributes={
                    "industry": str(rng.choice(["media", "saas"])),
                    "employees": int(rng.integers(5, 500)),
                },
                label=bool(rng.random() < 1 / (1 + np.exp(-logit))),
            )
            rows.append(row)
    return pd.DataFrame(rows)


def test_pipeline_learns_a_known_signal_on_a_time_based_holdout():
    result = churn.train(synthetic(), value_months=12, action_cost=100, save_rate=0.3)
    assert result.metrics["auc"] > 0.8
    assert result.metrics["lift_top_decile"] > 1.8
    assert result.holdout_from == dt.date(2025, 7, 1)  # the last quarter of rows, by date
    assert result.train_to < result.holdout_from
    assert result.n_train + result.n_holdout == 1200
    assert 0 < result.metrics["brier"] < 0.25
    assert sum(b["n"] for b in result.metrics["reliability"]) == result.n_holdout


def test_drivers_are_coefficient_times_standardised_value():
    frame = synthetic()
    result = churn.train(frame, value_months=12, action_cost=100, save_rate=0.3)
    idle = frame.iloc[[0]].assign(active_days_30=0.0, tickets_30d=6.0)
    reasons = churn.drivers(result.pipeline, idle)[0]
    assert {r["label"] for r in reasons[:2]} == {"active days", "tickets in 30 days"}
    assert all(r["effect"] > 0 for r in reasons)
    assert churn.predict(result.pipeline, idle)[0] > 0.8


def test_profit_curve_arithmetic():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.2, 0.1])
    value = np.array([1000.0, 1000.0, 100.0, 100.0])
    realised, expected, best_k, best = churn.profit_curve(y, p, value, action_cost=50, save_rate=0.5)
    # ranked by p × value: 900, 800, 20, 10 → gains 450, −50, 0, −50
    assert realised == [0, 450, 400, 400, 350]
    assert expected == pytest.approx([0, 400, 750, 710, 665])
    assert (best_k, best) == (1, 450)


def test_lift_and_auc_on_a_perfect_ranking():
    y = np.array([1] * 10 + [0] * 90)
    p = np.linspace(1, 0, 100)
    metrics = churn.evaluate(y, p, np.ones(100), action_cost=0, save_rate=1)
    assert metrics["auc"] == 1.0
    assert metrics["lift_top_decile"] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (synthetic(n_per_month=5, months=2), "at least 60 labelled"),
        (synthetic(n_per_month=40, months=2), "at least 3 month starts"),
        (synthetic(n_per_month=40, months=4).assign(label=False), "same outcome"),
    ],
)
def test_too_little_history_or_one_outcome_is_a_clear_error(frame, message):
    with pytest.raises(churn.InsufficientHistory, match=message):
        churn.train(frame, value_months=12, action_cost=100, save_rate=0.3)


def test_holdout_with_one_outcome_is_refused():
    with pytest.raises(churn.InsufficientHistory, match="only one outcome"):
        churn.evaluate(np.zeros(5), np.ones(5) / 2, np.ones(5), action_cost=1, save_rate=0.5)
