"""Reads of the health app, one module per thing read: the Customer 360 health section (`account`), churn
drivers in words (`drivers`), health profiles (`profiles`), the churn model's versions and predictions
(`churn_model`), the churn model's facts (`churn_facts`), band movement (`bands`) and stored usage metrics
(`usage`).

The names are re-exported here, so `from health import selectors` keeps reading `selectors.account_health`."""

from health.selectors.account import TREND_DAYS, account_health, changelog, factor_help, trend_chart
from health.selectors.bands import band_transition_accounts, band_transitions, snapshot_day_bounds
from health.selectors.churn_facts import churn_facts
from health.selectors.churn_model import (
    churn_models,
    current_model,
    lab_runs,
    last_failed_model,
    latest_backtest,
    model_versions,
    priorities,
)
from health.selectors.drivers import (
    GREEN_BUT_HIGH_RISK,
    LAB_METRIC_NAMES,
    RED_BUT_LOW_RISK,
    account_metric_facts,
    churn_drivers,
    churn_risk_story,
    predictions_with_driver_words,
)
from health.selectors.profiles import (
    draft_of,
    latest_metrics_frame,
    profile_backtest,
    profile_preview,
    profile_versions,
    profiles,
    published_of,
)
from health.selectors.usage import active_days_by_group, active_days_on, features_adopted, metrics_day_on_or_before

__all__ = [
    "GREEN_BUT_HIGH_RISK",
    "LAB_METRIC_NAMES",
    "RED_BUT_LOW_RISK",
    "TREND_DAYS",
    "account_health",
    "account_metric_facts",
    "active_days_by_group",
    "active_days_on",
    "band_transition_accounts",
    "band_transitions",
    "changelog",
    "churn_drivers",
    "churn_facts",
    "churn_models",
    "churn_risk_story",
    "current_model",
    "draft_of",
    "factor_help",
    "features_adopted",
    "lab_runs",
    "last_failed_model",
    "latest_backtest",
    "latest_metrics_frame",
    "metrics_day_on_or_before",
    "model_versions",
    "predictions_with_driver_words",
    "priorities",
    "profile_backtest",
    "profile_preview",
    "profile_versions",
    "profiles",
    "published_of",
    "snapshot_day_bounds",
    "trend_chart",
]
