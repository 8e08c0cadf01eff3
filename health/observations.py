"""Observations of the churn model: one row per account and month start with its features as of then and whether it
churned within the horizon after it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd
from django.db import transaction
from django.utils import timezone

from accounts.selectors import accounts_active_on
from health import conf
from health.features.observations import month_starts
from health.metrics import METRIC_KEYS, compute_metrics
from health.models import ChurnObservation
from health.scores import clean_value

if TYPE_CHECKING:
    pass

BATCH = 2000


@transaction.atomic
def observations_build(*, months: int = 24, today: dt.date | None = None, horizon_days: int | None = None) -> int:
    """Monthly observation snapshots for the last `months` month starts: the accounts active at each month
    start M, their metrics as of M − 1 day (nothing from M on), and the label "no longer active at M + horizon"
    once that day has passed. Rebuilds those months' rows; returns how many were written."""
    today = today or timezone.localdate()
    horizon = dt.timedelta(days=horizon_days or conf.get("CHURN_HORIZON_DAYS"))
    first = (today.replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(day=1)
    written = 0
    for month in month_starts(first, today):
        population = list(accounts_active_on(day=month).values_list("pk", flat=True))
        ChurnObservation.objects.filter(obs_date=month).delete()
        if not population:
            continue
        frame = compute_metrics(as_of=month - dt.timedelta(days=1), account_ids=population)
        if month + horizon <= today:
            still = set(accounts_active_on(day=month + horizon).values_list("pk", flat=True))
            labels = {pk: pk not in still for pk in frame.index}
        else:
            labels = {}
        records = frame.drop(columns=["custom_attributes"]).to_dict("index")
        attrs = frame["custom_attributes"].to_dict()
        objs = [
            ChurnObservation(
                obs_date=month,
                account_id=pk,
                features={**{k: clean_value(v) for k, v in row.items()}, "custom_attributes": attrs[pk] or {}},
                label=labels.get(pk),
            )
            for pk, row in records.items()
        ]
        ChurnObservation.objects.bulk_create(objs, batch_size=BATCH)
        written += len(objs)
    return written


def observations_frame(*, since: dt.date | None = None) -> pd.DataFrame:
    """All stored observations as one frame: obs_date, account_id, label and the feature columns."""
    qs = ChurnObservation.objects.all()
    if since:
        qs = qs.filter(obs_date__gte=since)
    rows = list(qs.values_list("obs_date", "account_id", "label", "features"))
    if not rows:
        return pd.DataFrame(columns=["obs_date", "account_id", "label", *METRIC_KEYS, "segment", "plan"])
    frame = pd.DataFrame([{**f, "obs_date": d, "account_id": a, "label": lab} for d, a, lab, f in rows])
    frame["silent_churn"] = frame["silent_churn"].astype(float)
    return frame
