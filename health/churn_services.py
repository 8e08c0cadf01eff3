"""Writes of the churn model: the weekly lab (backtest every candidate, train the winner, promote it only if it
beats the champion), daily predictions with drivers, and evaluations on a chosen split (lab runs).

The observations come from `health.features` over the facts `health.selectors.churn_facts` reads (the daily
rollups, subscriptions, tickets, surveys); the candidates and backtests from `health.lab`.
"""

from __future__ import annotations

import datetime as dt
import pickle
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import accounts_active_on
from accounts.services import account_set_health_bulk
from churnapp.roles import can_configure
from health import conf, features, lab, selectors
from health import model as churn
from health.models import ChurnLabRun, ChurnModelVersion, ChurnPrediction, LabRunStatus, ModelStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

BATCH = 2000
HISTORY_DAYS = features.LAG + features.WINDOW + features.SINCE_CAP  # what the oldest observation looks back on
MAX_HORIZON = 365


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def lab_observations(
    *, obs_dates: list[dt.date], today: dt.date, horizons: tuple[int, ...]
) -> tuple[pd.DataFrame, dict[str, str], list[str], list[tuple[str, str]]]:
    """Observations on these month starts as known at the end of `today`: (frame, catalogue, types, ratios)."""
    since = min(obs_dates) - dt.timedelta(days=HISTORY_DAYS) if obs_dates else today
    facts = features.facts_until(selectors.churn_facts(since=since, until=today), today)
    types = features.event_types(facts, configured=tuple(conf.get("CHURN_EVENT_TYPES")))
    ratios = [tuple(pair) for pair in conf.get("CHURN_RATIO_PAIRS")]
    frame, names = features.build_observations(
        facts, obs_dates=obs_dates, today=today, horizons=horizons, types=types, ratios=ratios
    )
    ratios = [(a, b) for a, b in ratios if a in types and b in types]
    return frame, names, types, ratios


def _settings() -> dict:
    return {
        "value_months": conf.get("VALUE_MONTHS"),
        "action_cost": conf.get("ACTION_COST"),
        "save_rate": conf.get("SAVE_RATE"),
    }


def _fold(rows: pd.DataFrame, cutoff: dt.date, months: int, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    stamp = pd.to_datetime(rows["obs_date"])
    test = rows[(stamp >= pd.Timestamp(cutoff)) & (stamp < pd.Timestamp(_add_months(cutoff, months)))]
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
    from health.services import observations_build

    today = today or timezone.localdate()
    horizon = horizon_days or conf.get("CHURN_HORIZON_DAYS")
    if rebuild_observations:  # the stored monthly metrics the health-profile backtest replays
        observations_build(months=months, today=today, horizon_days=horizon)
    lab_months = max(months, conf.get("LAB_MONTHS"))
    obs_dates = features.month_starts(_add_months(today.replace(day=1), -lab_months), today)
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


def prediction_frame(
    model: lab.ChurnModel, *, day: dt.date, account_ids: list[int], only_these: bool = False
) -> pd.DataFrame:
    """The model's features for these accounts as of the end of `day` (an observation dated the day after);
    `only_these` reads the facts of these accounts only (a few rescored accounts, not the whole book)."""
    facts = selectors.churn_facts(
        since=day - dt.timedelta(days=HISTORY_DAYS), until=day, account_ids=account_ids if only_these else None
    )
    grid = pd.DataFrame({"obs_date": day + dt.timedelta(days=1), "account_id": account_ids})
    return features.build_features(features.facts_until(facts, day), grid, types=model.types, ratios=model.ratios)


def _cached_probability(probability: float) -> float:
    return max(round(probability, 4), 0.0001) if probability > 0 else 0.0


@transaction.atomic
def churn_predict(*, day: dt.date | None = None, account_ids: list[int] | None = None) -> dict:
    """Daily: the promoted model's churn probability, drivers, MRR at risk and expected revenue saved for every
    active account (or, after a rescoring, for `account_ids` only); probability cached on Account. Without a
    promoted model nothing changes."""
    day = day or timezone.localdate()
    current = ChurnModelVersion.objects.filter(status=ModelStatus.PROMOTED).first()
    if current is None:
        return {"predicted": 0, "reason": "no promoted model"}
    model = pickle.loads(bytes(current.artifact))
    active = accounts_active_on(day=day)
    predictions = ChurnPrediction.objects.filter(day=day)
    if account_ids is not None:
        active, predictions = active.filter(pk__in=account_ids), predictions.filter(account_id__in=account_ids)
    population = list(active.values_list("pk", flat=True))
    predictions.delete()
    if not population:
        return {"predicted": 0}
    if isinstance(model, lab.ChurnModel):
        frame = prediction_frame(model, day=day, account_ids=population, only_these=account_ids is not None)
        p, why = model.predict(frame), model.drivers(frame)
        mrr = frame.set_index("account_id")["mrr"]
    else:  # a model trained before the lab: its own metric features
        from health.metrics import compute_metrics

        frame = compute_metrics(as_of=day, account_ids=population)
        frame["silent_churn"] = frame["silent_churn"].astype(float)
        p, why, mrr = churn.predict(model, frame), churn.drivers(model, frame), frame["mrr"]
    value_months, cost, save = conf.get("VALUE_MONTHS"), conf.get("ACTION_COST"), conf.get("SAVE_RATE")
    objs = [
        ChurnPrediction(
            account_id=int(pk), day=day, model=current, probability=float(prob), mrr_at_risk=float(prob * m),
            expected_saved=float(prob * m * value_months * save - cost), drivers=reasons,
        )
        for (pk, m), prob, reasons in zip(mrr.items(), p, why, strict=True)
    ]  # fmt: skip
    ChurnPrediction.objects.bulk_create(objs, batch_size=BATCH)
    predicted = {o.account_id for o in objs}
    stale = Account.objects.filter(churn_probability__isnull=False)
    stale = (stale if account_ids is None else stale.filter(pk__in=account_ids)).values_list("pk", flat=True)
    # Rounded for the lists, but never to 0 when the model says "some": the header shows "<1 %" like the section.
    rows = [{"account_id": o.account_id, "churn_probability": _cached_probability(o.probability)} for o in objs]
    rows += [{"account_id": pk, "churn_probability": None} for pk in stale if pk not in predicted]
    account_set_health_bulk(rows=rows)
    return {"predicted": len(objs), "model": current.pk}


# Evaluations on a chosen split ---------------------------------------------------------------------------------


def split_errors(
    *, train_until: dt.date, test_from: dt.date, test_until: dt.date, horizon_days: int, today: dt.date
) -> dict[str, str]:
    """Per field, what is wrong with a split (empty when it can be evaluated)."""
    errors = {}
    if not 1 <= horizon_days <= MAX_HORIZON:
        errors["horizon_days"] = f"The horizon is 1 to {MAX_HORIZON} days."
    if test_from < train_until:
        errors["test_from"] = "The test period starts on or after the end of training."
    if test_until < test_from:
        errors["test_until"] = "The test period ends on or after its start."
    elif "horizon_days" not in errors and test_until + dt.timedelta(days=horizon_days) > today:
        errors["test_until"] = (
            f"Observations up to {test_until} are labelled only on {test_until + dt.timedelta(days=horizon_days)} "
            f"({horizon_days} days later); as of {today} they are not. End the test earlier or shorten the horizon."
        )
    if train_until > today:
        errors["train_until"] = f"Training cannot end after today ({today})."
    return errors


def lab_split(
    *, train_until: dt.date, test_from: dt.date, test_until: dt.date, horizon_days: int, as_of: dt.date | None = None
) -> dict:
    """Every candidate trained on the observations dated before `train_until` whose label was known by
    `test_from`, and scored on the observations dated `test_from`…`test_until` (month starts), as if today
    were `as_of`. Raises ValidationError (per field) when the split cannot be evaluated."""
    today = as_of or timezone.localdate()
    errors = split_errors(
        train_until=train_until, test_from=test_from, test_until=test_until, horizon_days=horizon_days, today=today
    )
    if errors:
        raise ValidationError(errors)
    first = _add_months(train_until.replace(day=1), -conf.get("LAB_MONTHS"))
    frame, names, _types, _ratios = lab_observations(
        obs_dates=features.month_starts(first, test_until), today=today, horizons=(horizon_days,)
    )
    label = f"label_{horizon_days}"
    rows = lab.labelled(frame, label)
    stamp = pd.to_datetime(rows["obs_date"])
    before = rows[stamp < pd.Timestamp(train_until)]
    train = before[stamp[before.index] <= pd.Timestamp(test_from - dt.timedelta(days=horizon_days))]
    test = rows[(stamp >= pd.Timestamp(test_from)) & (stamp <= pd.Timestamp(test_until))]
    if test.empty or test[label].nunique() < 2:
        raise ValidationError({"test_from": "The test period holds no month start with both churned and retained "
                                            "accounts: widen it."})  # fmt: skip
    try:
        result = lab.evaluate_split(
            frame, train_rows=train, test_rows=test, label=label, names=names, horizon_days=horizon_days
        )
    except lab.NotEnoughData as exc:
        raise ValidationError({"train_until": str(exc)}) from exc
    scored = {k: v for k, v in result.items() if v.get("auc") is not None}
    return {
        "as_of": today.isoformat(),
        "horizon_days": horizon_days,
        "train": {"from": str(train["obs_date"].min()), "to": str(train["obs_date"].max()), "n": len(train),
                  "churns": int(train[label].astype(int).sum()), "dropped_unlabelled": len(before) - len(train)},
        "test": {"from": str(test["obs_date"].min()), "to": str(test["obs_date"].max()), "n": len(test),
                 "churns": int(test[label].astype(int).sum())},
        "candidates": result,
        "winner": max(scored, key=lambda k: scored[k]["auc"]) if scored else None,
    }  # fmt: skip


def lab_run_request(
    *,
    train_until: dt.date,
    test_from: dt.date,
    test_until: dt.date,
    horizon_days: int,
    as_of: dt.date | None = None,
    actor: AbstractBaseUser | None,
) -> ChurnLabRun:
    """Queue an evaluation of every candidate on this split (managers and admins). The split is checked now;
    the work runs in a worker."""
    if actor is not None and not can_configure(actor):
        raise PermissionDenied("Only managers and admins run the churn model lab.")
    errors = split_errors(
        train_until=train_until, test_from=test_from, test_until=test_until, horizon_days=horizon_days,
        today=as_of or timezone.localdate(),
    )  # fmt: skip
    if as_of is not None and as_of > timezone.localdate():
        errors["as_of"] = "As-of must not be in the future."
    if errors:
        raise ValidationError(errors)
    run = ChurnLabRun.objects.create(
        requested_by=actor if isinstance(actor, get_user_model()) else None,  # an API key is no user
        train_until=train_until, test_from=test_from, test_until=test_until, horizon_days=horizon_days, as_of=as_of,
    )  # fmt: skip
    from health.tasks import run_churn_lab

    transaction.on_commit(lambda: run_churn_lab.delay(run.pk))
    return run


def lab_run_execute(*, run_id: int) -> ChurnLabRun | None:
    """Run a queued lab run once (claimed with a conditional update, so a redelivered task does nothing)."""
    if not ChurnLabRun.objects.filter(pk=run_id, status=LabRunStatus.QUEUED).update(status=LabRunStatus.RUNNING):
        return None
    run = ChurnLabRun.objects.get(pk=run_id)
    try:
        results = lab_split(
            train_until=run.train_until, test_from=run.test_from, test_until=run.test_until,
            horizon_days=run.horizon_days, as_of=run.as_of,
        )  # fmt: skip
    except ValidationError as exc:
        run.status, run.message = LabRunStatus.FAILED, " ".join(exc.messages)
    except Exception as exc:  # the failure path: the run says why instead of staying "running" forever
        ChurnLabRun.objects.filter(pk=run_id).update(
            status=LabRunStatus.FAILED, message=f"Unexpected error: {exc}", finished_at=timezone.now()
        )
        raise
    else:
        run.status, run.results = LabRunStatus.DONE, results
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "message", "results", "finished_at"])
    return run
