"""Rolling-origin backtests: the cutoffs, every candidate fitted on the observations whose label was known at a
cutoff and scored on the following months, and the summary against the baseline."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from churnapp.months import month_start_after
from health.lab.candidates import BASELINE, BLENDED, CANDIDATES, MIN_TRAIN_CHURNS, NotEnoughData, fit
from health.lab.metrics import scores

MIN_TRAIN_MONTHS = 3
ENOUGH_TEST_CHURNS = 20
MIN_ROWS = 60


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
        c = month_start_after(dates[-1], -(months - 1)) if dates else None
        while c is not None and len(found) < count and c > dates[0]:
            train = known_at(rows, c, horizon_days)
            if (train["obs_date"].nunique() >= MIN_TRAIN_MONTHS
                    and train[label].astype(int).sum() >= MIN_TRAIN_CHURNS):  # fmt: skip
                found.append(c)
            c = month_start_after(c, -months)
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
        end = month_start_after(c, months)
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
