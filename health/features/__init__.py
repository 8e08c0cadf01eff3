"""Behavioural churn features: per event type, as of each observation date, from the daily rollups.

Pure functions: `Facts` (plain frames read by `health.selectors.churn_facts` or built from simulated data) in,
one row per (obs_date, account) out. Nothing dated on or after an observation date is read for its features:
an observation at D uses the days up to D − 1 (the rollups), subscriptions active at D, tickets opened and
surveys answered before D. Labels look forward: "no longer active at D + h" for each horizon h.

The catalogue (names a CSM understands, used for the drivers):
- per event type t: `n28:t` count in the last 28 days, `pu28:t` per active user-day, `pm28:t` per $100 MRR,
  `chg:t` change vs the same 28 days three months earlier (log ratio), `since:t` days since last use;
- ratios between related event types (`ratio:a/b`, configured pairs such as campaign_sent / campaign_created);
- overall activity: active days, events, active user-days in 28 days and their 3-month change;
- tenure, MRR, seats and their 90-day changes, billing term and days to renewal, plan (from subscriptions);
- tickets in 28 and 90 days, latest NPS and CSAT.

Attributes as of the observation date: `plan` is read from the subscription rows (dated history). Segment and
custom attributes have no history in the data, so they are left out of every observation (today's value would
leak the future into past rows); see `ATTRIBUTES_WITHOUT_HISTORY`.

Modules: `facts` (the input frames), `observations` (population, labels, the whole frame), `columns` (the
features of each observation) and `names` (the catalogue: event types and feature names); their names are
re-exported here.
"""

from health.features.columns import ATTRIBUTES_WITHOUT_HISTORY, CHUNK, LAG, SINCE_CAP, WINDOW, build_features
from health.features.inputs import Facts, empty_facts, facts_until
from health.features.names import catalogue, event_types, label_of
from health.features.observations import active_accounts, build_observations, month_starts, observation_grid

__all__ = [
    "ATTRIBUTES_WITHOUT_HISTORY",
    "CHUNK",
    "Facts",
    "LAG",
    "SINCE_CAP",
    "WINDOW",
    "active_accounts",
    "build_features",
    "build_observations",
    "catalogue",
    "empty_facts",
    "event_types",
    "facts_until",
    "label_of",
    "month_starts",
    "observation_grid",
]
