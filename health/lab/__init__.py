"""Churn model lab: candidates trained on the same observations, compared by rolling-origin backtests.

Pure functions over the observation frame of `health.features` (one row per obs_date × account, `label_<h>`
per horizon, the catalogue's columns). No database.

Candidates
- `baseline` — the textbook: per-event-type behavioural metrics (counts, per active user-day, per MRR, ratios),
  log-scaled and standardised, correlated metrics grouped (average of the group's standardised scores, groups
  of |correlation| ≥ 0.65), L1-regularised logistic regression. The row to beat.
- `logistic` — regularised (L2) logistic regression on the full catalogue (usage per type and its changes,
  days since last use, tenure, MRR, seats, renewal, tickets, surveys, plan), median-imputed with missing flags.
- `boosting` — LightGBM on the full catalogue (missing values native).
- `blend` — the mean of the calibrated logistic and boosting probabilities (steadier than either on short
  histories); its drivers are the mean of the two models' effects.
The full-catalogue candidates also read `renewal_due` (`with_horizon_features`): whether the contract renews
within the horizon.

Each is fitted on the earlier part of its training rows and calibrated on the latest months (a quarter of the rows,
reaching back until they hold 20 churns): Platt scaling with its slope kept positive (`calibration.PositivePlatt`:
a noisy slice may rescale, never reverse the ranking), or isotonic when the slice holds ≥ 100 churns. After a Platt
calibration the model is refitted on all its training rows; the slope stays and the level is set again on the
latest months.

Drivers per prediction (log-odds against an average account):
- logistic models: coefficient × standardised value (exact: the terms of the linear predictor);
- boosting: exact TreeSHAP contributions (LightGBM's `pred_contrib`); they add up to the row's log-odds minus the
  average account's. Models pickled when the boosting was scikit-learn's keep the older baseline-replacement
  effects.

Fits and predictions run on one thread: on a small, shared machine OpenMP's threads in the gradient boosting
slow it down tenfold rather than speed it up.

Backtest: for each cutoff c, train on the observations whose label was known at c (obs_date + horizon ≤ c: a
gap of one horizon before the test months) and test on the observations of the months [c, c + test months).

Modules: `candidates` (preparation, the fitted model, `fit`), `backtest` (rolling origins, summary) and `metrics`
(AUC, lift, calibration). Their names are re-exported here; models pickled before the lab became a package name
`health.lab.ChurnModel` and `health.lab.Prepared`, so those two must stay importable from `health.lab`.
"""

from health.lab.backtest import (
    ENOUGH_TEST_CHURNS,
    MIN_ROWS,
    MIN_TRAIN_MONTHS,
    backtest,
    cutoffs,
    evaluate_split,
    known_at,
    labelled,
    summarise,
)
from health.lab.candidates import (
    BASELINE,
    BASELINE_PREFIXES,
    BLENDED,
    CALIBRATION_SHARE,
    CANDIDATES,
    GROUP_CORRELATION,
    ISOTONIC_MIN_CHURNS,
    MIN_TRAIN_CHURNS,
    ChurnModel,
    NotEnoughData,
    Prepared,
    blend,
    correlated_groups,
    feature_columns,
    fit,
    label_for,
    with_horizon_features,
)
from health.lab.metrics import ece, lift_top_decile, scores

__all__ = [
    "BASELINE",
    "BASELINE_PREFIXES",
    "BLENDED",
    "CALIBRATION_SHARE",
    "CANDIDATES",
    "ChurnModel",
    "ENOUGH_TEST_CHURNS",
    "GROUP_CORRELATION",
    "ISOTONIC_MIN_CHURNS",
    "MIN_ROWS",
    "MIN_TRAIN_CHURNS",
    "MIN_TRAIN_MONTHS",
    "NotEnoughData",
    "Prepared",
    "backtest",
    "blend",
    "correlated_groups",
    "cutoffs",
    "ece",
    "evaluate_split",
    "feature_columns",
    "fit",
    "known_at",
    "label_for",
    "labelled",
    "lift_top_decile",
    "scores",
    "summarise",
    "with_horizon_features",
]
