"""Evaluations on a chosen split (lab runs): what is wrong with a split, every candidate trained and scored on it,
and the queued run a manager requests and a worker executes once."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from churnapp import hooks
from churnapp.months import month_start_after
from churnapp.roles import can_configure
from health import conf, features, lab
from health.churn_services._common import lab_observations
from health.models import ChurnLabRun, LabRunStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


MAX_HORIZON = 365


def split_errors(
    *, train_until: dt.date, test_from: dt.date, test_until: dt.date, horizon_days: int, today: dt.date
) -> dict[str, str]:
    """Per field, what is wrong with a split (empty when it can be evaluated)."""
    errors = {}
    if not 1 <= horizon_days <= MAX_HORIZON:
        errors["horizon_days"] = _("The horizon is 1 to %(max)s days.") % {"max": MAX_HORIZON}
    if test_from < train_until:
        errors["test_from"] = _("The test period starts on or after the end of training.")
    if test_until < test_from:
        errors["test_until"] = _("The test period ends on or after its start.")
    elif "horizon_days" not in errors and test_until + dt.timedelta(days=horizon_days) > today:
        errors["test_until"] = _(
            "Observations up to %(until)s are labelled only on %(labelled)s (%(days)s days later); as of %(today)s "
            "they are not. End the test earlier or shorten the horizon."
        ) % {"until": test_until, "labelled": test_until + dt.timedelta(days=horizon_days), "days": horizon_days,
             "today": today}  # fmt: skip
    if train_until > today:
        errors["train_until"] = _("Training cannot end after today (%(today)s).") % {"today": today}
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
    first = month_start_after(train_until.replace(day=1), -conf.get("LAB_MONTHS"))
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
        raise ValidationError(
            {"test_from": _("The test period holds no month start with both churned and retained accounts: widen it.")}
        )
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
        raise PermissionDenied(_("Only managers and admins run the churn model lab."))
    errors = split_errors(
        train_until=train_until, test_from=test_from, test_until=test_until, horizon_days=horizon_days,
        today=as_of or timezone.localdate(),
    )  # fmt: skip
    if as_of is not None and as_of > timezone.localdate():
        errors["as_of"] = _("As-of must not be in the future.")
    if errors:
        raise ValidationError(errors)
    run = ChurnLabRun.objects.create(
        requested_by=actor if isinstance(actor, get_user_model()) else None,  # an API key is no user
        train_until=train_until, test_from=test_from, test_until=test_until, horizon_days=horizon_days, as_of=as_of,
    )  # fmt: skip
    hooks.notify(hooks.CHURN_LAB_REQUESTED, run.pk)
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
