"""How well a candidate's probabilities rank and are calibrated: AUC, lift in the top decile, Brier score and
expected calibration error."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score


def lift_top_decile(y: np.ndarray, p: np.ndarray) -> float:
    n = max(int(math.ceil(len(y) * 0.1)), 1)
    top = np.argsort(-p, kind="stable")[:n]
    base = y.mean()
    return float(y[top].mean() / base) if base > 0 else float("nan")


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |observed − predicted| per equal-width probability bin, weighted by its rows."""
    index = np.clip((p * bins).astype(int), 0, bins - 1)
    total = 0.0
    for b in np.unique(index):
        mask = index == b
        total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / len(y))


def scores(y: np.ndarray, p: np.ndarray) -> dict:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    both = len(np.unique(y)) == 2
    return {
        "auc": float(roc_auc_score(y, p)) if both else None,
        "lift": lift_top_decile(y, p) if both else None,
        "brier": float(brier_score_loss(y, p)),
        "ece": ece(y, p),
        "n": len(y),
        "churns": int(y.sum()),
        "base_rate": float(y.mean()) if len(y) else None,
    }
