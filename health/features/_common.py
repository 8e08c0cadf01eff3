"""What several of the feature modules share."""

from __future__ import annotations

import pandas as pd


def observation_dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series)
