"""Writes of the churn model: the weekly lab (backtest every candidate, train the winner, promote it only if it
beats the champion), daily predictions with drivers, and evaluations on a chosen split (lab runs).

The observations come from `health.features` over the facts `health.selectors.churn_facts` reads (the daily
rollups, subscriptions, tickets, surveys); the candidates and backtests from `health.lab`.

Modules: `training`, `predictions` and `lab_runs`; their names are re-exported here.
"""

from health.churn_services._common import HISTORY_DAYS, lab_observations
from health.churn_services.lab_runs import MAX_HORIZON, lab_run_execute, lab_run_request, lab_split, split_errors
from health.churn_services.predictions import BATCH, churn_predict, prediction_frame
from health.churn_services.training import churn_model_train, lead_time, recommendation

__all__ = [
    "BATCH",
    "HISTORY_DAYS",
    "MAX_HORIZON",
    "churn_model_train",
    "churn_predict",
    "lab_observations",
    "lab_run_execute",
    "lab_run_request",
    "lab_split",
    "lead_time",
    "prediction_frame",
    "recommendation",
    "split_errors",
]
