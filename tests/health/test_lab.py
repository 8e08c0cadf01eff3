from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from health import lab
from health.features.observations import build_observations, month_starts
from health.lab.calibration import PositivePlatt
from tests.health.lab_data import START, end_of, planted_facts


@pytest.fixture(scope="module")
def planted():
    facts, _churn = planted_facts()
    frame, names = build_observations(
        facts, obs_dates=month_starts(START + dt.timedelta(days=31), end_of()), today=end_of(), horizons=(60,)
    )
    return frame, names


def test_backtest_finds_the_planted_per_event_type_signal_and_beats_the_baseline(planted):
    frame, names = planted
    report = lab.backtest(frame, horizon_days=60, names=names, count=2, test_months=3)
    assert len(report["cutoffs"]) == 2
    assert report["winner"] in {"logistic", "boosting", "blend"}
    means = report["means"]
    assert means[report["winner"]]["auc"] >= means["baseline"]["auc"] + 0.03
    for row in report["table"]:
        if row["candidate"] == report["winner"]:
            assert row["lift"] >= 1.5 and row["ece"] <= 0.05
    model = lab.fit(report["winner"], lab.labelled(frame, "label_60"), label="label_60", names=names,
                    horizon_days=60)  # fmt: skip
    top = [s["feature"] for s in model.signal(frame.sample(300, random_state=0))[:2]]
    assert "chg:report_viewed" in top


def test_each_cutoff_trains_only_on_labels_known_then(planted):
    frame, names = planted
    report = lab.backtest(frame, horizon_days=60, names=names, count=2, test_months=3)
    for row in report["table"]:
        assert dt.date.fromisoformat(row["train_last"]) + dt.timedelta(days=60) <= dt.date.fromisoformat(row["cutoff"])


@pytest.mark.parametrize("kind", lab.CANDIDATES)
def test_every_kind_gives_calibrated_probabilities_and_drivers_with_readable_names(planted, kind):
    frame, names = planted
    rows = lab.labelled(frame, "label_60")
    model = lab.fit(kind, rows, label="label_60", names=names, horizon_days=60)
    p = model.predict(rows)
    assert ((p >= 0) & (p <= 1)).all()
    assert abs(p.mean() - rows["label_60"].astype(float).mean()) < 0.02
    drivers = model.drivers(rows.head(20))
    assert any(drivers)
    for reasons in drivers:
        for r in reasons:
            assert r["effect"] > 0 and ":" not in r["label"]


def test_drivers_of_a_logistic_model_are_coefficient_times_standardised_value(planted):
    frame, names = planted
    rows = lab.labelled(frame, "label_60")
    model = lab.fit("logistic", rows, label="label_60", names=names, horizon_days=60)
    effects, keys, _labels = model.contributions(rows.head(5))
    z = model.prepared.standardised(rows.head(5))
    np.testing.assert_allclose(effects, z * model.estimator.coef_[0])
    assert keys[: len(model.prepared.columns)] == model.prepared.columns


def test_boosting_drivers_are_exact_tree_shap_contributions(planted):
    frame, names = planted
    rows = lab.labelled(frame, "label_60")
    model = lab.fit("boosting", rows, label="label_60", names=names, horizon_days=60)
    some = rows.head(25)
    effects, keys, _labels = model.contributions(some)
    x = model._design(some)
    raw = model.estimator.predict_proba(x)[:, 1]
    expected = model.estimator.booster_.predict(x, pred_contrib=True)[:, -1]
    # Local accuracy: a row's effects add up to its log-odds minus the average account's.
    np.testing.assert_allclose(effects.sum(axis=1) + expected, np.log(raw / (1 - raw)), atol=1e-6)
    assert keys == model.prepared.columns
    # The planted signal carries the largest mean contribution.
    assert keys[int(np.abs(effects).mean(axis=0).argmax())] == "chg:report_viewed"


def test_calibration_rescales_but_never_reverses_the_ranking():
    """A noisy later slice on which the model looks inverted moves only the level; the ranking stays."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 1))
    y = (rng.random(600) < 1 / (1 + np.exp(-(2 * x[:, 0] - 2)))).astype(int)
    model = LogisticRegression().fit(x, y)
    inverted = PositivePlatt(model).fit(x, 1 - y)  # the slice says the opposite
    assert inverted.slope == 1.0
    p = inverted.predict_proba(x)[:, 1]
    assert (np.argsort(p, kind="stable") == np.argsort(model.predict_proba(x)[:, 1], kind="stable")).all()
    assert p.mean() == pytest.approx((1 - y).mean(), abs=1e-6)
    honest = PositivePlatt(model).fit(x, y)
    assert honest.slope > 0 and honest.slope != 1.0


def test_the_renewal_window_is_a_feature_of_the_horizon():
    frame = pd.DataFrame({"days_to_renewal": [10.0, 45.0, 200.0, np.nan]})
    assert lab.with_horizon_features(frame, 31)["renewal_due"].tolist()[:3] == [1.0, 0.0, 0.0]
    assert lab.with_horizon_features(frame, 60)["renewal_due"].tolist()[:3] == [1.0, 1.0, 0.0]
    assert np.isnan(lab.with_horizon_features(frame, 31)["renewal_due"].iloc[3])


def test_baseline_groups_correlated_metrics():
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    z = np.column_stack([a, a + rng.normal(scale=0.1, size=500), rng.normal(size=500)])
    groups = lab.correlated_groups(z, ["n28:a", "pu28:a", "n28:b"])
    assert sorted(map(sorted, groups)) == [[0, 1], [2]]


def test_metrics_on_known_cases():
    y = np.array([1] * 10 + [0] * 90)
    p = np.linspace(1, 0, 100)
    s = lab.scores(y, p)
    assert s["auc"] == 1.0 and s["lift"] == pytest.approx(10.0) and s["churns"] == 10
    assert lab.ece(np.array([0, 0, 1, 1.0]), np.array([0.05, 0.05, 0.95, 0.95])) == pytest.approx(0.05)


def test_too_little_history_is_a_clear_error():
    frame = pd.DataFrame({"obs_date": [dt.date(2025, 1, 1)] * 10, "account_id": range(10), "label_90": [False] * 10})
    with pytest.raises(lab.NotEnoughData, match="at least 60 labelled observations"):
        lab.backtest(frame, horizon_days=90, names={})


def test_a_model_pickled_before_newer_fields_existed_still_predicts(planted):
    import pickle

    frame, names = planted
    rows = lab.labelled(frame, "label_60")
    model = lab.fit("logistic", rows, label="label_60", names=names, horizon_days=60)
    for name in ("parts", "types", "ratios"):
        del model.__dict__[name]  # as stored by an earlier version
    restored = pickle.loads(pickle.dumps(model))
    assert restored.parts == [] and len(restored.predict(rows.head(3))) == 3
