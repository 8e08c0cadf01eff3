"""The candidates and how they are fitted: the numeric matrix's preparation (log scaling, medians, missing flags,
standardisation), correlated metric groups, the fitted `ChurnModel` with its drivers and signal, and `fit`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from health.features.names import label_of
from health.lab.calibration import PositivePlatt

CANDIDATES = ("baseline", "logistic", "boosting", "blend")
BLENDED = ("logistic", "boosting")
BASELINE = "baseline"
BASELINE_PREFIXES = ("n28:", "pu28:", "pm28:", "ratio:")
GROUP_CORRELATION = 0.65
MIN_TRAIN_CHURNS = 10
ISOTONIC_MIN_CHURNS = 100
CALIBRATION_SHARE = 0.25
CALIBRATION_MIN_CHURNS = 20


class NotEnoughData(Exception):
    """Not enough labelled history to train or evaluate honestly; the message says what is missing."""


# --- feature preparation -----------------------------------------------------------------------------------------


def feature_columns(frame: pd.DataFrame, kind: str) -> list[str]:
    """The numeric catalogue columns a candidate reads (labels, keys and the plan text excluded)."""
    skip = {"obs_date", "account_id", "plan", "label"}
    numeric = [c for c in frame.columns if c not in skip and not c.startswith("label_")]
    if kind == BASELINE:
        return [c for c in numeric if c.startswith(BASELINE_PREFIXES)]
    return numeric


def with_horizon_features(frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """The features that depend on the horizon: `renewal_due`, whether the contract renews within it (an annual
    customer whose renewal is months away rarely leaves in the next 31 days; a linear model cannot draw that
    step from `days_to_renewal` alone)."""
    if "days_to_renewal" not in frame or "renewal_due" in frame:
        return frame
    days = frame["days_to_renewal"].astype(float)
    return frame.assign(renewal_due=np.where(days.isna(), np.nan, (days <= horizon_days).astype(float)))


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
        frame = with_horizon_features(frame, self.horizon_days)
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
        frame = with_horizon_features(frame, self.horizon_days)
        if self.parts:
            return self._blended_effects(frame)
        x = self._design(frame)
        if self.kind == "boosting":
            with threadpool_limits(1):
                if hasattr(self.estimator, "booster_"):
                    return self._tree_shap_effects(x)
                return self._replacement_effects(x)  # a model pickled before the boosting moved to LightGBM
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

    def _tree_shap_effects(self, x: np.ndarray) -> tuple[np.ndarray, list[str], list[str]]:
        """Exact TreeSHAP contributions in log-odds (LightGBM's `pred_contrib`); the last column, the expected
        value, is left out: the effects of a row add up to its log-odds minus the average account's."""
        effects = self.estimator.booster_.predict(x, pred_contrib=True)[:, :-1]
        keys = list(self.prepared.columns)
        return effects, keys, [label_for(k, self.names) for k in keys]

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
        frame = with_horizon_features(frame, self.horizon_days)
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
        frame = with_horizon_features(frame, self.horizon_days)
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
    return LGBMClassifier(
        learning_rate=0.05, n_estimators=150, num_leaves=8, min_child_samples=40, reg_lambda=1.0,
        subsample_for_bin=200_000, n_jobs=1, deterministic=True, force_row_wise=True, random_state=0, verbose=-1,
    )  # fmt: skip


def _split_by_date(
    rows: pd.DataFrame, share: float, *, label: str, min_churns: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The earlier rows and the latest dates holding about `share` of the rows (at least one date each), reaching
    further back while the slice holds fewer than `min_churns` churns and the earlier rows keep half the rows: one
    month with a handful of churns calibrates the level to its own noise."""
    dates = sorted(rows["obs_date"].unique())
    if len(dates) < 2:
        return rows, rows.iloc[0:0]
    counts = rows["obs_date"].value_counts().sort_index()
    churns = rows.groupby("obs_date")[label].apply(lambda s: int(s.astype(int).sum())).reindex(counts.index)
    tail = counts[::-1].cumsum()[::-1] / counts.sum()
    tail_churns = churns[::-1].cumsum()[::-1]
    later = [d for d in dates[1:] if tail[d] <= share + 1e-9]
    split = later[0] if later else dates[-1]
    for d in reversed(dates[1:]):
        if d <= split and (tail_churns[split] >= min_churns or tail[d] > 0.5 + 1e-9):
            break
        if d < split:
            split = d
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
    train = with_horizon_features(train, horizon_days)
    y_all = train[label].astype(int).to_numpy()
    if y_all.sum() < MIN_TRAIN_CHURNS or y_all.sum() == len(y_all):
        raise NotEnoughData(
            f"Training needs at least {MIN_TRAIN_CHURNS} churned and some retained observations; "
            f"have {int(y_all.sum())} churned of {len(y_all)}."
        )
    early, late = _split_by_date(train, CALIBRATION_SHARE, label=label, min_churns=CALIBRATION_MIN_CHURNS)
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
    if method == "isotonic":
        calibrated = CalibratedClassifierCV(FrozenEstimator(model.estimator), method=method)
        with warnings.catch_warnings():  # the folds only split the frozen model's predictions: few churns are fine
            warnings.simplefilter("ignore", UserWarning)
            calibrated.fit(model._design(late), y_late)
    else:
        calibrated = PositivePlatt(model.estimator).fit(model._design(late), y_late)
        if late is not train:  # the slope stays; the model learns from the latest months too, level re-set
            model.estimator = clone(model.estimator).fit(model._design(train), train[label].astype(int).to_numpy())
            calibrated.refit(model.estimator, model._design(late), y_late)
    model.calibrated = calibrated
    model.calibration = f"{method} on {late['obs_date'].min()}…{late['obs_date'].max()}" + (
        " (in-sample: too little history for a separate slice)" if late is train else ""
    )
    return model
