"""Daily predictions: the promoted model's churn probability, drivers, MRR at risk and expected revenue saved per
active account, with the probability cached on the account."""

from __future__ import annotations

import datetime as dt
import pickle

import pandas as pd
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import accounts_active_on
from accounts.services.health_cache import account_set_health_bulk
from health import conf, features, lab, selectors
from health import model as churn
from health.churn_services._common import HISTORY_DAYS
from health.metrics import compute_metrics
from health.models import ChurnModelVersion, ChurnPrediction, ModelStatus

BATCH = 2000


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
