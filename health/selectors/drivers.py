"""Churn drivers in words: a prediction's stored drivers with the values of the account's stored metrics, and the
sentence shown when the churn model and the health band tell different stories."""

from __future__ import annotations

import datetime as dt

from accounts.models import Account
from churnapp.templatetags.formatting import percent
from health import scoring
from health.metrics import METRIC_KEYS
from health.models import AccountMetrics, ChurnPrediction

# Where the model's probability and the health band tell different stories, the page says so in words.
RED_BUT_LOW_RISK = 0.15
GREEN_BUT_HIGH_RISK = 0.40


# Lab features that measure a stored metric under another name: the drivers show the stored value.
LAB_METRIC_NAMES = {"mrr_chg_90": "mrr_change_90d"}


def _driver_metric(feature: str) -> tuple[str | None, bool]:
    """(metric key, is a "value missing" indicator) of a model feature name; None for one-hot attributes.

    The lab's models name features "nps" and "missing:nps"; models trained before the lab "num__nps" and
    "num__missingindicator_nps". Keys that are not stored metrics are left as the model wrote them.
    """
    if feature.startswith("missing:"):
        key = feature.removeprefix("missing:")
        return LAB_METRIC_NAMES.get(key, key), True
    kind, separator, rest = feature.partition("__")
    if not separator:
        return LAB_METRIC_NAMES.get(feature, feature), False
    if kind != "num":
        return None, False
    if rest.startswith("missingindicator_"):
        return rest.removeprefix("missingindicator_"), True
    return rest, False


_METRIC_FIELDS = {f.name for f in AccountMetrics._meta.get_fields()}


def account_metric_facts(*, account: Account, day: dt.date | None) -> dict[str, float | None]:
    """The stored metrics of an account on `day` (else its latest before): the facts the health breakdown scores.
    Churn drivers read their values here too, so both sections show one value per fact."""
    rows = AccountMetrics.objects.filter(account=account)
    if day is not None:
        rows = rows.filter(day__lte=day)
    row = rows.order_by("-day").values(*[k for k in METRIC_KEYS if k in _METRIC_FIELDS]).first()
    return {key: (None if value is None else float(value)) for key, value in (row or {}).items()}


def churn_drivers(*, drivers: list[dict], facts: dict[str, float | None]) -> list[dict]:
    """The stored drivers of a prediction in words, with values from `facts` (see `account_metric_facts`).

    The model adds a "value missing" indicator per metric; its effect is non-zero whether or not the value is
    there (it is standardised), so it reads "no data for X" only when X really has no value, else "X on record".
    """
    out = []
    for driver in drivers or []:
        key, indicator = _driver_metric(driver.get("feature", ""))
        row = {**driver}
        if key is not None and key in facts:
            value = facts[key]
            label = scoring.factor_label(key)
            if indicator:
                row["label"] = f"no data for {label}" if value is None else f"{label} on record"
            else:
                row["label"] = label if value is not None else f"no data for {label}"
            row["value"] = None if value is None else round(value, 2)
        out.append(row)
    return out


def _driver_phrase(driver: dict) -> str:
    value = driver.get("value")
    if value is None:
        return driver["label"]
    return f"{driver['label']} {value:g}" if isinstance(value, float | int) else f"{driver['label']} {value}"


def churn_risk_story(
    *, band: str, score: int | None, probability: float, horizon_days: int, drivers: list[dict], breakdown: list[dict]
) -> str:
    """One sentence whenever the churn model and the health band do not say the same thing; empty when they agree.

    Health scores how the account looks now against the profile's thresholds; the model estimates how often
    accounts with the same facts left within the horizon in the past. They agree on red with a high risk and on
    green with a low one; every other combination — red with a low risk, green with a high one, yellow with any —
    gets one sentence in words, with the risk as the page prints it.
    """
    scored = [f for f in breakdown if not f["missing"] and f["normalised"] is not None]
    weakest = [f["label"] for f in sorted(scored, key=lambda f: f["normalised"])[:2]]
    strongest = [f["label"] for f in sorted(scored, key=lambda f: -f["normalised"])[:2]]
    risk = percent(probability, 0)
    raising = [_driver_phrase(d) for d in drivers if d.get("effect", 0) > 0][:2]
    low, high = probability < RED_BUT_LOW_RISK, probability >= GREEN_BUT_HIGH_RISK
    history = f"within {horizon_days} days in the model's history"
    like = f" with {' and '.join(raising)}" if raising else ""
    if band == "red" and low:
        why = f", mostly on {' and '.join(weakest)}" if weakest else ""
        tail = (
            f" The drivers listed below ({', '.join(raising)}) push the risk up, but less than the rest of the "
            "account's facts pull it down."
            if raising
            else ""
        )
        return (
            f"Health is red ({score}){why}, yet accounts with facts like this one's left within {horizon_days} "
            f"days only {risk} of the time in the model's history: act on the health factors, the renewal risk is "
            f"lower than the band suggests.{tail}"
        )
    if band == "green" and high:
        why = f" ({' and '.join(strongest)})" if strongest else ""
        return (
            f"Usage is healthy{why}, score {score}, but accounts like this one{like} churned {risk} of the time "
            f"{history}."
        )
    if band != "yellow":
        return ""
    weak = f", weakest on {' and '.join(weakest)}" if weakest else ""
    if high:
        return (
            f"Health is only yellow ({score}){weak}, and accounts like this one{like} churned {risk} of the time "
            f"{history}: treat it as at risk, the renewal risk is higher than the band suggests."
        )
    if low:
        return (
            f"Health is yellow ({score}){weak}, yet accounts with facts like this one's churned only {risk} of the "
            f"time {history}: work on the weak factors, the renewal risk is lower than the band suggests."
        )
    return (
        f"Health is yellow ({score}){weak}, and accounts like this one{like} churned {risk} of the time {history}: "
        "both say watch this account."
    )


def predictions_with_driver_words(predictions: list[ChurnPrediction]) -> list[ChurnPrediction]:
    """Set `driver_rows` on each prediction: its drivers in words (`churn_drivers`) with the values of the stored
    metrics of its day, read for all of them in one query, so Priorities says what the Customer 360 says."""
    if not predictions:
        return predictions
    day = max(p.day for p in predictions)
    fields = [k for k in METRIC_KEYS if k in _METRIC_FIELDS]
    facts: dict[int, dict] = {}
    rows = (
        AccountMetrics.objects.filter(account_id__in=[p.account_id for p in predictions], day__lte=day)
        .order_by("account_id", "-day")
        .values("account_id", *fields)
    )
    for row in rows:
        if row["account_id"] not in facts:
            facts[row["account_id"]] = {k: (None if row[k] is None else float(row[k])) for k in fields}
    for prediction in predictions:
        prediction.driver_rows = churn_drivers(drivers=prediction.drivers, facts=facts.get(prediction.account_id, {}))
    return predictions
