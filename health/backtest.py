"""Backtest lab: how well would a health profile have predicted the churn that really happened?

Pure functions over the stored monthly observations (metrics as of the day before each month start, label =
no longer active `horizon` days later). The profile is replayed on every observation (percentile factors
against the peers of the same month), and the score is read as a risk: lower score, more churn expected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from health import scoring

THRESHOLDS = list(range(10, 100, 10))


def _auc(y: np.ndarray, risk: np.ndarray) -> float | None:
    if len(y) == 0 or len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, risk))


def replay(observations: pd.DataFrame, factors: list[dict], bands: scoring.Bands) -> pd.DataFrame:
    """Score every labelled observation with the profile: columns obs_date, label, score, band + normalised factors."""
    labelled = observations[observations["label"].notna()]
    parts = []
    for _day, group in labelled.groupby("obs_date"):
        result = scoring.score_frame(group, factors, bands)
        part = pd.DataFrame(
            {"obs_date": group["obs_date"], "label": group["label"].astype(bool), "score": result.score,
             "band": result.band},
            index=group.index,
        )  # fmt: skip
        parts.append(part.join(result.normalised.add_prefix("n_")))
    return pd.concat(parts) if parts else pd.DataFrame(columns=["obs_date", "label", "score", "band"])


def backtest_profile(observations: pd.DataFrame, factors: list[dict], bands: scoring.Bands) -> dict:
    """AUC of the score, churn rate per band, precision/recall when "score below t" is read as "will churn",
    and each factor's own AUC (which factors carried the signal)."""
    scored = replay(observations, factors, bands)
    scored = scored[scored["score"].notna()]
    if scored.empty:
        return {"n": 0, "message": "No labelled observations yet: the backtest needs history older than the horizon."}
    y = scored["label"].to_numpy(dtype=int)
    risk = (100 - scored["score"]).to_numpy(dtype=float)
    per_band = []
    for band in ("green", "yellow", "red"):
        rows = scored[scored["band"] == band]
        per_band.append(
            {"band": band, "n": len(rows), "churned": int(rows["label"].sum()),
             "rate": float(rows["label"].mean()) if len(rows) else None}
        )  # fmt: skip
    churned = max(int(y.sum()), 0)
    curve = []
    for t in THRESHOLDS:
        flagged = scored["score"] < t
        hits = int((flagged & scored["label"]).sum())
        curve.append(
            {"threshold": t, "flagged": int(flagged.sum()),
             "precision": hits / int(flagged.sum()) if flagged.any() else None,
             "recall": hits / churned if churned else None}
        )  # fmt: skip
    signal = []
    for factor in factors:
        column = f"n_{factor['key']}"
        if column not in scored:
            continue
        present = scored[column].notna()
        auc = _auc(y[present.to_numpy()], (100 - scored.loc[present, column]).to_numpy(dtype=float))
        signal.append(
            {"key": factor["key"], "label": scoring.factor_label(factor["key"]), "auc": auc,
             "coverage": float(present.mean()), "weight": float(factor["weight"])}
        )  # fmt: skip
    signal.sort(key=lambda s: -(s["auc"] or 0))
    months = scored.groupby("obs_date")
    return {
        "n": len(scored),
        "churned": churned,
        "base_rate": float(y.mean()),
        "auc": _auc(y, risk),
        "first": min(scored["obs_date"]),
        "last": max(scored["obs_date"]),
        "months": months.ngroups,
        "per_band": per_band,
        "thresholds": curve,
        "signal": signal,
    }
