"""Calibration that may rescale a fitted model's probabilities but never reorder them.

Platt scaling fits `sigmoid(a · logit(p) + b)` on a later slice. On a small, noisy slice the fitted slope `a` can
come out negative, which reverses the model's ranking: a model with a held-out AUC of 0.85 then scores 0.15. Here
the slope is kept positive; when the slice gives no positive slope, only the level is corrected (slope 1, the
intercept that makes the mean probability match the slice's churn rate). Isotonic regression is monotone
non-decreasing by construction and keeps its scikit-learn implementation.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from sklearn.linear_model import LogisticRegression


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def level_offset(scores: np.ndarray, y: np.ndarray) -> float:
    """The intercept b with mean(sigmoid(scores + b)) = mean(y): calibration in the large."""
    rate = float(np.clip(np.mean(y), 1e-4, 1 - 1e-4))
    return float(brentq(lambda b: _sigmoid(scores + b).mean() - rate, -30.0, 30.0))


class PositivePlatt:
    """Platt scaling over a fitted estimator with the slope kept positive (see the module's docstring)."""

    def __init__(self, estimator) -> None:
        self.estimator = estimator
        self.slope = 1.0
        self.intercept = 0.0

    def _scores(self, x: np.ndarray) -> np.ndarray:
        return logit(self.estimator.predict_proba(x)[:, 1])

    def fit(self, x: np.ndarray, y: np.ndarray) -> PositivePlatt:
        s = self._scores(x)
        fitted = LogisticRegression(C=1e4, max_iter=1000).fit(s[:, None], y)
        self.slope, self.intercept = float(fitted.coef_[0, 0]), float(fitted.intercept_[0])
        if self.slope <= 0:
            self.slope, self.intercept = 1.0, level_offset(s, y)
        return self

    def refit(self, estimator, x: np.ndarray, y: np.ndarray) -> PositivePlatt:
        """Keep the slope for `estimator` (the same model refitted on more rows) and set the level again so the
        mean probability on (x, y) matches its churn rate."""
        self.estimator = estimator
        self.intercept = level_offset(self.slope * self._scores(x), y)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = _sigmoid(self.slope * self._scores(x) + self.intercept)
        return np.column_stack([1 - p, p])
