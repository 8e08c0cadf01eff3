"""The churn model and its evaluation: pure functions over pandas frames and scikit-learn, no database.

- Features: the account metrics as of the day before an observation date plus attributes (segment, plan and
  custom attributes: text values one-hot encoded, numbers median-imputed with a missing indicator and scaled).
- Model: logistic regression, so each prediction's drivers are exact and documented: a driver's effect is
  coefficient × standardised value (its additive share of the log-odds against an average account).
- Evaluation on a time-based holdout (the latest observation dates): ROC AUC, lift in the top decile, Brier
  score with a 10-bin reliability table, and a profit curve: contacting the top-k accounts ranked by
  risk × value earns Σ(churned × value × save rate) − k × action cost; k is chosen where it peaks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from health.metrics import METRIC_KEYS
from health.scoring import factor_label

MIN_ROWS = 60
MIN_DATES = 3
EXCLUDED = {"mrr_before"}


class InsufficientHistory(Exception):
    """Not enough labelled history to train or evaluate honestly; the message says what is missing."""


def feature_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Model inputs from metrics + attributes: custom attributes become `attr_<key>` columns."""
    X = frame[[k for k in METRIC_KEYS if k in frame and k not in EXCLUDED]].astype(float).copy()
    X["segment"] = frame["segment"].astype(str)
    X["plan"] = frame["plan"].fillna("").astype(str)
    custom = frame["custom_attributes"] if "custom_attributes" in frame else pd.Series([{}] * len(frame))
    attrs = pd.DataFrame([c if isinstance(c, dict) else {} for c in custom], index=frame.index)
    for key in attrs.columns:
        values = attrs[key]
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().sum() >= 0.9 * values.notna().sum() and values.notna().any():
            X[f"attr_{key}"] = numeric.astype(float)
        elif values.nunique() <= 30:
            X[f"attr_{key}"] = values.fillna("").astype(str)
    return X


def build_pipeline(X: pd.DataFrame) -> Pipeline:
    categorical = [c for c in X.columns if X[c].dtype == object]
    numeric = [c for c in X.columns if c not in categorical]
    transform = ColumnTransformer(
        [
            (
                "num",
                Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                          ("scale", StandardScaler())]),
                numeric,
            ),
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), categorical),
        ],
        verbose_feature_names_out=True,
    )  # fmt: skip
    return Pipeline([("features", transform), ("model", LogisticRegression(C=0.5, max_iter=2000))])


def time_split(dates: pd.Series, holdout_share: float = 0.25) -> object:
    """The first observation date of the holdout: the latest dates holding about `holdout_share` of the rows."""
    distinct = sorted(dates.unique())
    if len(distinct) < MIN_DATES:
        raise InsufficientHistory(
            f"Need labelled observations on at least {MIN_DATES} month starts; have {len(distinct)}. "
            "Churn labels need the horizon to have passed, so more history is needed."
        )
    counts = dates.value_counts().sort_index()
    cumulative = counts[::-1].cumsum()[::-1] / counts.sum()
    candidates = [d for d in distinct[1:] if cumulative[d] <= holdout_share + 1e-9]
    return candidates[0] if candidates else distinct[-1]


def lift_top_decile(y: np.ndarray, p: np.ndarray) -> float:
    n = max(int(math.ceil(len(y) * 0.1)), 1)
    top = np.argsort(-p, kind="stable")[:n]
    base = y.mean()
    return float(y[top].mean() / base) if base > 0 else float("nan")


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            table.append(
                {"bin": f"{edges[b]:.1f}–{edges[b + 1]:.1f}", "predicted": float(p[mask].mean()),
                 "observed": float(y[mask].mean()), "n": int(mask.sum())}
            )  # fmt: skip
    return table


def profit_curve(
    y: np.ndarray, p: np.ndarray, value: np.ndarray, *, action_cost: float, save_rate: float
) -> tuple[list[float], list[float], int, float]:
    """Realised and expected profit of contacting the top-k accounts by risk × value, for k = 0…n.

    realised(k) = Σ_top-k churned·value·save_rate − k·cost (what the holdout shows);
    expected(k) = Σ_top-k p·value·save_rate − k·cost (what the model promised). Best k maximises realised.
    """
    order = np.argsort(-(p * value), kind="stable")
    gain = y[order] * value[order] * save_rate - action_cost
    promised = p[order] * value[order] * save_rate - action_cost
    realised = np.concatenate([[0.0], np.cumsum(gain)])
    expected = np.concatenate([[0.0], np.cumsum(promised)])
    best = int(np.argmax(realised))
    return realised.tolist(), expected.tolist(), best, float(realised[best])


def evaluate(y: np.ndarray, p: np.ndarray, value: np.ndarray, *, action_cost: float, save_rate: float) -> dict:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(np.unique(y)) < 2:
        raise InsufficientHistory("The holdout has only one outcome (all churned or none): AUC is undefined.")
    realised, expected, best_k, best_value = profit_curve(
        y, p, np.asarray(value, dtype=float), action_cost=action_cost, save_rate=save_rate
    )
    step = max(len(realised) // 50, 1)
    return {
        "auc": float(roc_auc_score(y, p)),
        "lift_top_decile": lift_top_decile(y, p),
        "brier": float(brier_score_loss(y, p)),
        "base_rate": float(y.mean()),
        "n": len(y),
        "reliability": reliability(y, p),
        "profit": {
            "k": list(range(0, len(realised), step)),
            "realised": realised[::step],
            "expected": expected[::step],
            "best_k": best_k,
            "best_value": best_value,
            "action_cost": action_cost,
            "save_rate": save_rate,
        },
    }


@dataclass
class TrainResult:
    pipeline: Pipeline
    metrics: dict
    train_from: object
    train_to: object
    holdout_from: object
    holdout_to: object
    n_train: int
    n_holdout: int
    holdout: pd.DataFrame = field(repr=False)


def train(observations: pd.DataFrame, *, value_months: float, action_cost: float, save_rate: float) -> TrainResult:
    """Fit on the earlier observation dates, evaluate on the latest ones.

    `observations`: one row per (obs_date, account) with metrics, attributes, `label` (bool) and `mrr`.
    """
    labelled = observations[observations["label"].notna()]
    if len(labelled) < MIN_ROWS:
        raise InsufficientHistory(f"Need at least {MIN_ROWS} labelled observations to train; have {len(labelled)}.")
    split = time_split(labelled["obs_date"])
    train_rows = labelled[labelled["obs_date"] < split]
    holdout = labelled[labelled["obs_date"] >= split]
    y_train = train_rows["label"].astype(int).to_numpy()
    if len(np.unique(y_train)) < 2:
        raise InsufficientHistory(
            "Every training observation has the same outcome (nobody churned, or everybody did): nothing to learn."
        )
    pipeline = build_pipeline(feature_frame(train_rows))
    pipeline.fit(feature_frame(train_rows), y_train)
    p = pipeline.predict_proba(feature_frame(holdout))[:, 1]
    y = holdout["label"].astype(int).to_numpy()
    metrics = evaluate(
        y, p, holdout["mrr"].astype(float).to_numpy() * value_months, action_cost=action_cost, save_rate=save_rate
    )
    metrics["train_base_rate"] = float(y_train.mean())
    return TrainResult(
        pipeline, metrics, train_rows["obs_date"].min(), train_rows["obs_date"].max(), split,
        holdout["obs_date"].max(), len(train_rows), len(holdout), holdout,
    )  # fmt: skip


def predict(pipeline: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    X = feature_frame(frame)
    expected = list(pipeline.feature_names_in_)
    for column in expected:
        if column not in X:
            X[column] = np.nan
    return pipeline.predict_proba(X[expected])[:, 1]


def _readable(name: str) -> str:
    kind, _, rest = name.partition("__")
    if rest.startswith("missingindicator_"):
        return f"no data for {factor_label(rest.removeprefix('missingindicator_'))}"
    if kind == "cat":
        column, _, value = rest.rpartition("_")
        for base in ("segment", "plan"):
            if rest.startswith(base + "_"):
                column, value = base, rest[len(base) + 1 :]
        return f"{column.removeprefix('attr_').replace('_', ' ')} = {value}"
    return factor_label(rest.removeprefix("attr_"))


def drivers(pipeline: Pipeline, frame: pd.DataFrame, top: int = 3) -> list[list[dict]]:
    """Per row, the `top` features pushing churn risk up most: effect = coefficient × standardised value."""
    X = feature_frame(frame)
    for column in pipeline.feature_names_in_:
        if column not in X:
            X[column] = np.nan
    transformed = pipeline.named_steps["features"].transform(X[list(pipeline.feature_names_in_)])
    transformed = transformed.toarray() if hasattr(transformed, "toarray") else np.asarray(transformed)
    names = pipeline.named_steps["features"].get_feature_names_out()
    effects = transformed * pipeline.named_steps["model"].coef_[0]
    raw = X.reset_index(drop=True)
    out = []
    for i in range(len(effects)):
        order = np.argsort(-effects[i])[:top]
        row = []
        for j in order:
            if effects[i, j] <= 0:
                continue
            column = names[j].partition("__")[2]
            value = raw.at[i, column] if column in raw.columns and raw[column].dtype != object else None
            row.append(
                {"feature": names[j], "label": _readable(names[j]), "effect": round(float(effects[i, j]), 3),
                 "value": None if value is None or pd.isna(value) else round(float(value), 2)}
            )  # fmt: skip
        out.append(row)
    return out
