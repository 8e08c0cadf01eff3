"""Weekly training: backtest every candidate, train the winner on everything labelled, and promote it only if it
beats the champion on the holdout neither has trained on; with the lead time by horizon and the profit curve's
recommendation."""

from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from churnapp.months import month_start_after
from health import conf, features, lab
from health import model as churn
from health.churn_services._common import lab_observations
from health.models import ChurnModelVersion, ModelStatus
from health.observations import observations_build


def _settings() -> dict:
    return {
        "value_months": conf.get("VALUE_MONTHS"),
        "action_cost": conf.get("ACTION_COST"),
        "save_rate": conf.get("SAVE_RATE"),
    }


def _fold(rows: pd.DataFrame, cutoff: dt.date, months: int, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    stamp = pd.to_datetime(rows["obs_date"])
    test = rows[(stamp >= pd.Timestamp(cutoff)) & (stamp < pd.Timestamp(month_start_after(cutoff, months)))]
    return lab.known_at(rows, cutoff, horizon), test


def lead_time(frame: pd.DataFrame, *, winner: str, names: dict[str, str], months: int) -> list[dict]:
    """AUC of the winner and the baseline by horizon, each on its latest rolling-origin fold."""
    out = []
    for h in conf.get("LEAD_TIME_HORIZONS"):
        label = f"label_{h}"
        if label not in frame:
            continue
        rows = lab.labelled(frame, label)
        found, test_months = lab.cutoffs(rows, horizon_days=h, count=1, test_months=months)
        if not found:
            out.append({"horizon_days": h, "error": "not enough labelled history for this horizon"})
            continue
        train, test = _fold(rows, found[-1], test_months, h)
        kinds = tuple(dict.fromkeys([winner, lab.BASELINE]))
        result = lab.evaluate_split(
            frame, train_rows=train, test_rows=test, label=label, names=names, horizon_days=h, kinds=kinds
        )
        out.append(
            {"horizon_days": h, "cutoff": found[-1].isoformat(), "churns": int(test[label].astype(int).sum()),
             "auc": result[winner].get("auc"), "baseline_auc": result[lab.BASELINE].get("auc")}
        )  # fmt: skip
    return out


def recommendation(metrics: dict, *, mrr: np.ndarray, settings: dict) -> dict:
    """What the profit curve recommends: how many of the ranked accounts to contact and what that earns, and the
    break-even churn probability for an account of median MRR (contact when p × value × save rate > cost)."""
    profit = metrics["profit"]
    n = metrics["n"]
    median_value = float(np.median(mrr)) * settings["value_months"] if len(mrr) else 0.0
    break_even = settings["action_cost"] / (median_value * settings["save_rate"]) if median_value > 0 else None
    return {
        "contact_k": profit["best_k"],
        "contact_share": profit["best_k"] / n if n else 0.0,
        "net_value": profit["best_value"],
        "break_even_probability": None if break_even is None else min(break_even, 1.0),
        "median_value": median_value,
        "action_cost": settings["action_cost"],
        "save_rate": settings["save_rate"],
    }


def churn_model_train(
    *,
    rebuild_observations: bool = True,
    months: int = 24,
    today: dt.date | None = None,
    horizon_days: int | None = None,
) -> ChurnModelVersion:
    """Weekly: backtest every candidate (rolling origins), train the winner on everything labelled, and promote
    it only if it beats the current model on the latest backtest fold. Too little history is recorded as a
    failed version with the reason (never an exception to the caller). `today`: as if today were that day."""

    today = today or timezone.localdate()
    horizon = horizon_days or conf.get("CHURN_HORIZON_DAYS")
    if rebuild_observations:  # the stored monthly metrics the health-profile backtest replays
        observations_build(months=months, today=today, horizon_days=horizon)
    lab_months = max(months, conf.get("LAB_MONTHS"))
    obs_dates = features.month_starts(month_start_after(today.replace(day=1), -lab_months), today)
    horizons = tuple(sorted({horizon, *conf.get("LEAD_TIME_HORIZONS")}))
    frame, names, types, ratios = lab_observations(obs_dates=obs_dates, today=today, horizons=horizons)
    settings = _settings()
    label = f"label_{horizon}"
    try:
        report = lab.backtest(
            frame, horizon_days=horizon, names=names, count=conf.get("LAB_CUTOFFS"),
            test_months=conf.get("LAB_TEST_MONTHS"),
        )  # fmt: skip
        if report["winner"] is None:
            raise lab.NotEnoughData("No candidate could be trained on any backtest fold: " + "; ".join(
                sorted({r["error"] for r in report["table"] if r.get("error")})))  # fmt: skip
        winner = report["winner"]
        rows = lab.labelled(frame, label)
        train, test = _fold(rows, dt.date.fromisoformat(report["cutoffs"][-1]), report["test_months"], horizon)
        fold_model = lab.fit(winner, train, label=label, names=names, horizon_days=horizon)
        y = test[label].astype(int).to_numpy()
        p = fold_model.predict(test)
        value = test["mrr"].astype(float).to_numpy() * settings["value_months"]
        metrics = churn.evaluate(y, p, value, action_cost=settings["action_cost"], save_rate=settings["save_rate"])
        final = lab.fit(winner, rows, label=label, names=names, horizon_days=horizon)
    except (lab.NotEnoughData, churn.InsufficientHistory) as exc:
        return ChurnModelVersion.objects.create(status=ModelStatus.FAILED, horizon_days=horizon, message=str(exc))
    final.types, final.ratios = types, ratios
    metrics.update(
        ece=lab.ece(y.astype(float), p),
        candidate=winner,
        calibration=final.calibration,
        train_base_rate=float(rows[label].astype(int).mean()),
        lab=report,
        lead_time=lead_time(frame, winner=winner, names=names, months=report["test_months"]),
        recommendation=recommendation(metrics, mrr=test["mrr"].astype(float).to_numpy(), settings=settings),
        signal=fold_model.signal(test),
        as_of=today.isoformat(),
        fold_train_from=str(train["obs_date"].min()),
        fold_train_to=str(train["obs_date"].max()),
        fold_n_train=len(train),
    )
    promote, message = _beats_champion(metrics, test, p, label)
    with transaction.atomic():
        current = ChurnModelVersion.objects.select_for_update().filter(status=ModelStatus.PROMOTED).first()
        if promote and current is not None:
            ChurnModelVersion.objects.filter(pk=current.pk).update(status=ModelStatus.RETIRED)
        return ChurnModelVersion.objects.create(
            status=ModelStatus.PROMOTED if promote else ModelStatus.REJECTED,
            horizon_days=horizon,
            train_from=rows["obs_date"].min(),
            train_to=rows["obs_date"].max(),
            holdout_from=test["obs_date"].min(),
            holdout_to=test["obs_date"].max(),
            n_train=len(rows),
            n_holdout=len(test),
            metrics=metrics,
            message=message,
            artifact=pickle.dumps(final),
        )


def _beats_champion(metrics: dict, test: pd.DataFrame, p: np.ndarray, label: str) -> tuple[bool, str]:
    """Champion/challenger on the holdout rows neither model was trained on: the latest fold's observations dated
    after the current model's training data. The challenger (trained before the fold) must score a higher AUC
    there than the current model. An unreadable current model, or one on the older feature set, gives way."""
    current = ChurnModelVersion.objects.filter(status=ModelStatus.PROMOTED).first()
    if current is None:
        return True, ""
    try:
        old = pickle.loads(bytes(current.artifact))
    except Exception as exc:  # an unreadable old model must not block a working new one
        metrics["current_error"] = str(exc)
        return True, ""
    if not isinstance(old, lab.ChurnModel):
        metrics["current_error"] = "the current model reads the earlier feature set"
        return True, ""
    unseen = (pd.to_datetime(test["obs_date"]) > pd.Timestamp(current.train_to)).to_numpy()
    y = test[label].astype(int).to_numpy()
    if len(np.unique(y[unseen])) < 2:
        return False, (
            f"No labelled month the current model has not trained on (it saw up to {current.train_to}): nothing "
            "new to judge a retrain on, so the current model stays."
        )
    new_auc = lab.scores(y[unseen], p[unseen])["auc"]
    old_auc = lab.scores(y[unseen], old.predict(test[unseen]))["auc"]
    metrics["current_auc_on_holdout"] = old_auc
    metrics["challenger_auc_on_unseen"] = new_auc
    if new_auc > old_auc:
        return True, ""
    return False, (
        f"Holdout AUC {new_auc:.3f} ({metrics['candidate']}) does not beat the current model's {old_auc:.3f} on the "
        f"same {int(unseen.sum())} observations since {current.train_to}."
    )
