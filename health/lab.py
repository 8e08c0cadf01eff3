"""Churn model lab: candidates trained on the same observations, compared by rolling-origin backtests.

Pure functions over the observation frame of `health.features` (one row per obs_date × account, `label_<h>`
per horizon, the catalogue's columns). No database.

Candidates
- `baseline` — the textbook: per-event-type behavioural metrics (counts, per active user-day, per MRR, ratios),
  log-scaled and standardised, correlated metrics grouped (average of the group's standardised scores, groups
  of |correlation| ≥ 0.65), L1-regularised logistic regression. The row to beat.
- `logistic` — regularised (L2) logistic regression on the full catalogue (usage per type and its changes,
  days since last use, tenure, MRR, seats, renewal, tickets, surveys, plan), median-imputed with missing flags.
- `boosting` — scikit-learn's HistGradientBoostingClassifier on the full catalogue (missing values native).
- `blend` — the mean of the calibrated logistic and boosting probabilities (steadier than either on short
  histories); its drivers are the mean of the two models' effects.

Each is fitted on the earlier part of its training rows and calibrated on the latest slice (sigmoid, or isotonic
when the slice holds ≥ 100 churns) with CalibratedClassifierCV over the frozen fitted model.

Drivers per prediction (log-odds against an average account):
- logistic models: coefficient × standardised value (exact: the terms of the linear predictor);
- boosting: baseline replacement — the change in log-odds when the feature is set back to its training median,
  one feature at a time (a cheap local attribution; it ignores interactions between two moved features).

Fits and predictions run on one thread: on a small, shared machine OpenMP's threads in the gradient boosting
slow it down tenfold rather than speed it up.

Backtest: for each cutoff c, train on the observations whose label was known at c (obs_date + horizon ≤ c: a
gap of one horizon before the test months) and test on the observations of the months [c, c + test months).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from threadpoolctl import threadpool_limits

CANDIDATES = ("baseline", "logistic", "boosting", "blend")
BLENDED = ("logistic", "boosting")
BASELINE = "baseline"
BASELINE_PREFIXES = ("n28:", "pu28:", "pm28:", "ratio:")
GROUP_CORRELATION = 0.65
MIN_TRAIN_CHURNS = 10
MIN_TRAIN_MONTHS = 3
ISOTONIC_MIN_CHURNS = 100
CALIBRATION_SHARE = 0.25
ENOUGH_TEST_CHURNS = 20
MIN_ROWS = 60


class NotEnoughData(Exception):
    """Not enough labelled history to train or evaluate honestly; the message says what is missing."""


# --- metrics --------------------------------------------------------------------------------------------------


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


# --- feature preparation -----------------------------------------------------------------------------------------


def feature_columns(frame: pd.DataFrame, kind: str) -> list[str]:
    """The numeric catalogue columns a candidate reads (labels, keys and the plan text excluded)."""
    skip = {"obs_date", "account_id", "plan", "label"}
    numeric = [c for c in frame.columns if c not in skip and not c.startswith("label_")]
    if kind == BASELINE:
        return [c for c in numeric if c.startswith(BASELINE_PREFIXES)]
    return numeric


def _log_scaled(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


@dataclass
class Prepared:
    """Fitted preparation of the numeric matrix: which columns, log scaling, medians, means and spreads."""

    columns: list[str]
    logged: list[bool]
    medians: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    plans: list[str] = field(default_factory=list)
    missing_flags: list[int] = field(default_factory=list)
    raw_medians: np.ndarray | None = None

    @classmethod
    def fit(cls, frame: pd.DataFrame, columns: list[str], *, plans: bool) -> Prepared:
        raw = frame[columns].to_numpy(dtype=float)
        logged = [bool(np.nanmin(raw[:, j], initial=0) >= 0 and np.nanmax(raw[:, j], initial=0) > 10)
                  for j in range(raw.shape[1])]  # fmt: skip
        x = np.where(logged, _log_scaled(raw), raw)
        medians = np.nan_to_num(np.nanmedian(np.where(np.isnan(x).all(0), 0, x), axis=0))
        flags = [j for j in range(raw.shape[1]) if 0.01 < np.isnan(raw[:, j]).mean() < 1]
        filled = np.where(np.isnan(x), medians, x)
        kinds = sorted(frame["plan"].astype(str).value_counts().loc[lambda s: s >= 20].index) if plans else []
        prepared = cls(columns, logged, medians, np.zeros(len(columns)), np.ones(len(columns)), kinds, flags)
        prepared.raw_medians = np.nan_to_num(np.nanmedian(np.where(np.isnan(raw).all(0), 0, raw), axis=0))
        full = prepared._assemble(filled, raw, frame)
        prepared.means = full.mean(axis=0)
        prepared.stds = np.where(full.std(axis=0) > 1e-9, full.std(axis=0), 1.0)
        return prepared

    def _assemble(self, filled: np.ndarray, raw: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
        parts = [filled, np.isnan(raw[:, self.missing_flags]).astype(float)]
        if self.plans:
            plan = frame["plan"].astype(str).to_numpy()
            parts.append(np.column_stack([plan == p for p in self.plans]).astype(float))
        return np.column_stack(parts) if len(parts) > 1 else filled

    def names(self) -> list[str]:
        return [*self.columns, *(f"missing:{self.columns[j]}" for j in self.missing_flags),
                *(f"plan={p}" for p in self.plans)]  # fmt: skip

    def standardised(self, frame: pd.DataFrame) -> np.ndarray:
        raw = _matrix(frame, self.columns)
        x = np.where(self.logged, _log_scaled(raw), raw)
        filled = np.where(np.isnan(x), self.medians, x)
        return (self._assemble(filled, raw, frame) - self.means) / self.stds


def _matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    return frame.reindex(columns=columns).to_numpy(dtype=float)


def correlated_groups(z: np.ndarray, names: list[str], threshold: float = GROUP_CORRELATION) -> list[list[int]]:
    """Column indexes grouped by average-linkage clustering on 1 − |correlation| (the textbook's metric groups)."""
    if z.shape[1] < 2:
        return [[j] for j in range(z.shape[1])]
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(z, rowvar=False))
    distance = np.clip(1 - np.abs(corr), 0, None)
    np.fill_diagonal(distance, 0)
    labels = fcluster(linkage(squareform(distance, checks=False), "average"), 1 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for j, g in enumerate(labels):
        groups.setdefault(int(g), []).append(j)
    return sorted(groups.values(), key=lambda g: names[g[0]])


# --- the fitted model -----------------------------------------------------------------------------------------


@dataclass
class ChurnModel:
    """A fitted candidate: preparation, estimator, calibrator and the catalogue names for its drivers."""

    kind: str
    horizon_days: int
    prepared: Prepared
    estimator: object
    calibrated: object
    names: dict[str, str]
    groups: list[list[int]] | None = None
    calibration: str = ""
    types: list[str] = field(default_factory=list)
    ratios: list[tuple[str, str]] = field(default_factory=list)
    parts: list[ChurnModel] = field(default_factory=list)

    def __setstate__(self, state: dict) -> None:
        # A model pickled by an earlier version lacks the fields added since: they take their defaults.
        defaults = {"groups": None, "calibration": "", "types": [], "ratios": [], "parts": []}
        self.__dict__.update({**defaults, **state})

    def _design(self, frame: pd.DataFrame) -> np.ndarray:
        if self.kind == "boosting":
            return _matrix(frame, self.prepared.columns)
        z = self.prepared.standardised(frame)
        if self.groups is not None:
            z = np.column_stack([z[:, g].mean(axis=1) for g in self.groups])
        return z

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        if self.parts:
            return np.mean([part.predict(frame) for part in self.parts], axis=0)
        with threadpool_limits(1):
            return self.calibrated.predict_proba(self._design(frame))[:, 1]

    def group_label(self, index: int) -> str:
        features = self.prepared.names()
        members = [label_for(features[j], self.names) for j in self.groups[index]]
        return members[0] if len(members) == 1 else f"{members[0]} (+{len(members) - 1} related)"

    def contributions(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[str], list[str]]:
        """(rows × terms effects in log-odds, term keys, term labels)."""
        if self.parts:
            return self._blended_effects(frame)
        x = self._design(frame)
        if self.kind == "boosting":
            with threadpool_limits(1):
                return self._replacement_effects(x)
        effects = x * self.estimator.coef_[0]
        if self.groups is not None:
            keys = [self.prepared.names()[g[0]] for g in self.groups]
            return effects, keys, [self.group_label(i) for i in range(len(self.groups))]
        keys = self.prepared.names()
        return effects, keys, [label_for(k, self.names) for k in keys]

    def _blended_effects(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[str], list[str]]:
        """The mean of the parts' effects per term (a term one part lacks counts as 0 there)."""
        keys: dict[str, str] = {}
        parts = []
        for part in self.parts:
            effects, part_keys, labels = part.contributions(frame)
            keys.update(zip(part_keys, labels, strict=True))
            parts.append(dict(zip(part_keys, effects.T, strict=True)))
        order = list(keys)
        total = np.zeros((len(frame), len(order)))
        for part in parts:
            for j, key in enumerate(order):
                if key in part:
                    total[:, j] += part[key]
        return total / len(parts), order, [keys[k] for k in order]

    def _replacement_effects(self, x: np.ndarray) -> tuple[np.ndarray, list[str], list[str]]:
        """Baseline replacement: log-odds now minus log-odds with one feature set to its training median."""
        base = _logit(self.estimator.predict_proba(x)[:, 1])
        effects = np.zeros_like(x)
        for j in range(x.shape[1]):
            moved = x.copy()
            moved[:, j] = self.prepared.raw_medians[j]
            effects[:, j] = base - _logit(self.estimator.predict_proba(moved)[:, 1])
        keys = list(self.prepared.columns)
        return effects, keys, [label_for(k, self.names) for k in keys]

    def drivers(self, frame: pd.DataFrame, top: int = 3) -> list[list[dict]]:
        """Per row, the `top` terms pushing churn risk up most (effect in log-odds, raw value of the feature)."""
        effects, keys, labels = self.contributions(frame)
        raw = frame.reset_index(drop=True)
        out = []
        for i in range(len(effects)):
            row = []
            for j in np.argsort(-effects[i], kind="stable")[:top]:
                if round(float(effects[i, j]), 3) <= 0:
                    continue
                value = raw.at[i, keys[j]] if keys[j] in raw.columns else None
                row.append(
                    {"feature": keys[j], "label": labels[j], "effect": round(float(effects[i, j]), 3),
                     "value": None if value is None or pd.isna(value) else round(float(value), 2)}
                )  # fmt: skip
            out.append(row)
        return out

    def signal(self, frame: pd.DataFrame, top: int = 10) -> list[dict]:
        """The terms carrying the signal on `frame`: mean |effect| in log-odds (the drivers' method), largest first."""
        effects, keys, labels = self.contributions(frame)
        strength = np.abs(effects).mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            direction = np.array([np.corrcoef(effects[:, j], _plain(frame, key))[0, 1] if key in frame else np.nan
                                  for j, key in enumerate(keys)])  # fmt: skip
        order = np.argsort(-strength, kind="stable")[:top]
        return [
            {"feature": keys[j], "label": labels[j], "strength": round(float(strength[j]), 4),
             "risk_when": None if np.isnan(direction[j]) else ("higher" if direction[j] > 0 else "lower")}
            for j in order if strength[j] > 0
        ]  # fmt: skip


def _plain(frame: pd.DataFrame, key: str) -> np.ndarray:
    values = pd.to_numeric(frame[key], errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(values, nan=np.nanmedian(values) if np.isfinite(values).any() else 0.0)


def label_for(feature: str, names: dict[str, str]) -> str:
    from health.features import label_of

    if feature.startswith("missing:"):
        return f"no data for {label_of(feature.removeprefix('missing:'), names)}"
    return label_of(feature, names)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _estimator(kind: str):
    if kind == BASELINE:
        return LogisticRegression(l1_ratio=1.0, C=0.3, solver="liblinear", max_iter=2000)
    if kind == "logistic":
        return LogisticRegression(C=0.05, max_iter=3000)
    return HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=150, max_leaf_nodes=8, min_samples_leaf=40, l2_regularization=1.0,
        early_stopping=False, random_state=0,
    )  # fmt: skip


def _split_by_date(rows: pd.DataFrame, share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The earlier rows and the latest dates holding about `share` of the rows (at least one date each)."""
    dates = sorted(rows["obs_date"].unique())
    if len(dates) < 2:
        return rows, rows.iloc[0:0]
    counts = rows["obs_date"].value_counts().sort_index()
    tail = counts[::-1].cumsum()[::-1] / counts.sum()
    later = [d for d in dates[1:] if tail[d] <= share + 1e-9]
    split = later[0] if later else dates[-1]
    return rows[rows["obs_date"] < split], rows[rows["obs_date"] >= split]


def fit(kind: str, train: pd.DataFrame, *, label: str, names: dict[str, str], horizon_days: int) -> ChurnModel:
    """Fit one candidate on `train` (labelled rows): the earlier rows fit the model, the latest slice calibrates."""
    with threadpool_limits(1):
        if kind == "blend":
            return blend([_fit(k, train, label=label, names=names, horizon_days=horizon_days) for k in BLENDED])
        return _fit(kind, train, label=label, names=names, horizon_days=horizon_days)


def blend(parts: list[ChurnModel]) -> ChurnModel:
    """The blend of fitted models: their mean probability."""
    first = parts[0]
    model = ChurnModel("blend", first.horizon_days, first.prepared, None, None, first.names, parts=parts)
    model.calibration = "; ".join(f"{p.kind}: {p.calibration}" for p in parts)
    return model


def _fit(kind: str, train: pd.DataFrame, *, label: str, names: dict[str, str], horizon_days: int) -> ChurnModel:
    y_all = train[label].astype(int).to_numpy()
    if y_all.sum() < MIN_TRAIN_CHURNS or y_all.sum() == len(y_all):
        raise NotEnoughData(
            f"Training needs at least {MIN_TRAIN_CHURNS} churned and some retained observations; "
            f"have {int(y_all.sum())} churned of {len(y_all)}."
        )
    early, late = _split_by_date(train, CALIBRATION_SHARE)
    if late.empty or late[label].astype(int).sum() < 3 or early[label].astype(int).sum() < 5:
        early, late = train, train  # too short to hold out a slice: calibrate in-sample (noted)
    columns = [c for c in feature_columns(train, kind) if early[c].notna().any() and early[c].nunique() > 1]
    if not columns:
        raise NotEnoughData(f"No features for the {kind} candidate: no usage rollups in the training window.")
    prepared = Prepared.fit(early, columns, plans=kind == "logistic")
    model = ChurnModel(kind, horizon_days, prepared, _estimator(kind), None, names)
    if kind == BASELINE:
        z = prepared.standardised(early)
        model.groups = correlated_groups(z, prepared.names())
    y = early[label].astype(int).to_numpy()
    model.estimator.fit(model._design(early), y)
    y_late = late[label].astype(int).to_numpy()
    method = "isotonic" if y_late.sum() >= ISOTONIC_MIN_CHURNS else "sigmoid"
    calibrated = CalibratedClassifierCV(FrozenEstimator(model.estimator), method=method)
    with warnings.catch_warnings():  # the folds only split the frozen model's predictions: few churns are fine
        warnings.simplefilter("ignore", UserWarning)
        calibrated.fit(model._design(late), y_late)
    model.calibrated = calibrated
    model.calibration = f"{method} on {late['obs_date'].min()}…{late['obs_date'].max()}" + (
        " (in-sample: too little history for a separate slice)" if late is train else ""
    )
    return model


# --- backtests ------------------------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def labelled(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    return frame[frame[label].notna()]


def known_at(frame: pd.DataFrame, cutoff: dt.date, horizon_days: int) -> pd.DataFrame:
    """Observations whose label was known at `cutoff`: obs_date + horizon ≤ cutoff."""
    limit = cutoff - dt.timedelta(days=horizon_days)
    return frame[pd.to_datetime(frame["obs_date"]) <= pd.Timestamp(limit)]


def cutoffs(frame: pd.DataFrame, *, horizon_days: int, count: int = 3, test_months: int = 3) -> tuple[list, int]:
    """Rolling origins: the latest `count` cutoffs whose `test_months` test months are labelled, stepping back by
    the test length, each leaving enough training history (fewer test months when history is short)."""
    label = f"label_{horizon_days}"
    rows = labelled(frame, label)
    dates = sorted(rows["obs_date"].unique())
    for months in range(test_months, 0, -1):
        found = []
        c = _add_months(dates[-1], -(months - 1)) if dates else None
        while c is not None and len(found) < count and c > dates[0]:
            train = known_at(rows, c, horizon_days)
            if (train["obs_date"].nunique() >= MIN_TRAIN_MONTHS
                    and train[label].astype(int).sum() >= MIN_TRAIN_CHURNS):  # fmt: skip
                found.append(c)
            c = _add_months(c, -months)
        if found:
            return sorted(found), months
    return [], test_months


def evaluate_split(
    frame: pd.DataFrame,
    *,
    train_rows: pd.DataFrame,
    test_rows: pd.DataFrame,
    label: str,
    names: dict[str, str],
    horizon_days: int,
    kinds: tuple[str, ...] = CANDIDATES,
) -> dict[str, dict]:
    """Every candidate fitted on `train_rows` and scored on `test_rows`: {kind: scores (+ error)}."""
    y = test_rows[label].astype(int).to_numpy()
    out, predicted = {}, {}
    for kind in kinds:
        if kind == "blend" and all(k in kinds for k in BLENDED):
            continue  # from the parts' predictions below, without fitting them twice
        try:
            model = fit(kind, train_rows, label=label, names=names, horizon_days=horizon_days)
        except NotEnoughData as exc:
            out[kind] = {"error": str(exc)}
            continue
        predicted[kind] = model.predict(test_rows)
        out[kind] = scores(y, predicted[kind])
    if "blend" in kinds and "blend" not in out:
        missing = [k for k in BLENDED if k not in predicted]
        out["blend"] = (
            {"error": f"needs {' and '.join(missing)}"} if missing
            else scores(y, np.mean([predicted[k] for k in BLENDED], axis=0))
        )  # fmt: skip
    return {kind: out[kind] for kind in kinds}


def backtest(
    frame: pd.DataFrame,
    *,
    horizon_days: int,
    names: dict[str, str],
    count: int = 3,
    test_months: int = 3,
    kinds: tuple[str, ...] = CANDIDATES,
) -> dict:
    """Rolling-origin backtest of every candidate. Returns the table (one row per cutoff and candidate), the
    mean AUC per candidate and the winner (highest mean AUC over the cutoffs)."""
    label = f"label_{horizon_days}"
    rows = labelled(frame, label) if label in frame else frame.iloc[0:0]
    if len(rows) < MIN_ROWS:
        raise NotEnoughData(f"Need at least {MIN_ROWS} labelled observations to train; have {len(rows)}.")
    found, months = cutoffs(rows, horizon_days=horizon_days, count=count, test_months=test_months)
    if not found:
        raise NotEnoughData(
            f"Need labelled observations on at least {MIN_TRAIN_MONTHS} month starts and {MIN_TRAIN_CHURNS} churns "
            f"known {horizon_days} days before a later labelled month; have {rows['obs_date'].nunique()} "
            f"labelled months and {int(rows[label].astype(int).sum()) if len(rows) else 0} churns."
        )
    table = []
    for c in found:
        train = known_at(rows, c, horizon_days)
        end = _add_months(c, months)
        stamp = pd.to_datetime(rows["obs_date"])
        test = rows[(stamp >= pd.Timestamp(c)) & (stamp < pd.Timestamp(end))]
        result = evaluate_split(
            frame, train_rows=train, test_rows=test, label=label, names=names, horizon_days=horizon_days, kinds=kinds
        )
        for kind, metrics in result.items():
            table.append(
                {"cutoff": c.isoformat(), "test_until": (end - dt.timedelta(days=1)).isoformat(), "candidate": kind,
                 "train_rows": len(train), "train_last": str(train["obs_date"].max()), **metrics}
            )  # fmt: skip
    summary = summarise(table)
    return {"horizon_days": horizon_days, "test_months": months, "cutoffs": [c.isoformat() for c in found],
            "table": table, **summary}  # fmt: skip


def summarise(table: list[dict]) -> dict:
    """Mean AUC and lift per candidate over the cutoffs, the winner, and the targets against the baseline."""
    means: dict[str, dict] = {}
    for kind in dict.fromkeys(r["candidate"] for r in table):
        rows = [r for r in table if r["candidate"] == kind and r.get("auc") is not None]
        if rows:
            means[kind] = {key: float(np.mean([r[key] for r in rows])) for key in ("auc", "lift", "brier", "ece")}
    winner = max(means, key=lambda k: means[k]["auc"]) if means else None
    checks = []
    base = {r["cutoff"]: r for r in table if r["candidate"] == BASELINE}
    for r in table:
        if r["candidate"] != winner or r.get("auc") is None:
            continue
        b = base.get(r["cutoff"], {})
        checks.append(
            {"cutoff": r["cutoff"], "counted": r["churns"] >= ENOUGH_TEST_CHURNS,
             "auc_vs_baseline": None if b.get("auc") is None else round(r["auc"] - b["auc"], 4),
             "auc_ok": b.get("auc") is not None and r["auc"] >= b["auc"] + 0.03,
             "lift_ok": (r["lift"] or 0) >= 1.5, "ece_ok": r["ece"] <= 0.05}
        )  # fmt: skip
    return {"means": means, "winner": winner, "targets": checks}
