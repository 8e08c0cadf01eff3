"""Reads of the health app: what the Customer 360 partial, the profile editor and the priorities page show."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db import connection
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.utils import timezone

from accounts.models import Account, Subscription, SupportTicket, SurveyResponse
from churnapp.templatetags.formatting import percent
from health import conf, scoring
from health.features import Facts
from health.metrics import METRIC_KEYS
from health.models import (
    AccountMetrics,
    ChurnLabRun,
    ChurnModelVersion,
    ChurnPrediction,
    CsmSentiment,
    FeatureFirstUse,
    HealthProfile,
    HealthProfileVersion,
    HealthSnapshot,
    ModelStatus,
    UsageDaily,
    VersionStatus,
)

TREND_DAYS = 90


def factor_help(key: str) -> str:
    """The definition shown with a factor wherever it appears (breakdown, profile editor)."""
    meaningful = conf.meaningful_activity_definition()
    return {
        "days_since_meaningful": f"Days since the last meaningful day. {meaningful}",
        "active_days_30": f"Meaningful days in the last 30 days. {meaningful}",
        "active_days_7": f"Meaningful days in the last 7 days. {meaningful}",
    }.get(key, "")


def _breakdown(snapshot: HealthSnapshot) -> list[dict]:
    """Factor rows, largest weight first: raw value, normalised 0–100, renormalised weight %, points."""
    factors = {f["key"]: f for f in snapshot.version.factors}
    present_weight = sum(float(f["weight"]) for k, f in factors.items() if k not in snapshot.missing)
    rows = []
    for key, factor in factors.items():
        raw, normalised, contribution = (snapshot.factors.get(key) or [None, None, None])[:3]
        missing = key in snapshot.missing
        rows.append(
            {
                "key": key,
                "label": scoring.factor_label(key),
                "help": factor_help(key),
                "raw": raw,
                "normalised": normalised,
                "weight": float(factor["weight"]),
                "share": 0 if missing or not present_weight else 100 * float(factor["weight"]) / present_weight,
                "contribution": contribution,
                "missing": missing,
            }
        )
    rows.sort(key=lambda r: (r["missing"], -r["weight"]))
    return rows


def changelog(snapshots: list[HealthSnapshot], step: int = 7) -> list[dict]:
    """Weekly comparisons from the newest snapshot back: an entry when the score moved by at least
    HEALTH_CHANGELOG_MIN_POINTS or the band changed. Newest first.

    `snapshots` need day, score, band and version; the factors that explain each entry are read in one query,
    for the entries' snapshots only (the trend's rows come from an index, without their factors).
    """
    by_day = {s.day: s for s in snapshots}
    if not by_day:
        return []
    minimum = conf.get("CHANGELOG_MIN_POINTS")
    pairs = []
    day = max(by_day)
    while day - dt.timedelta(days=step) >= min(by_day):
        new, old = by_day.get(day), by_day.get(day - dt.timedelta(days=step))
        if new and old:
            moved = new.score is not None and old.score is not None and abs(new.score - old.score) >= minimum
            if moved or new.band != old.band or (new.score is None) != (old.score is None):
                pairs.append((new, old))
        day -= dt.timedelta(days=step)
    wanted = {s.pk for pair in pairs for s in pair}
    factors = dict(HealthSnapshot.objects.filter(pk__in=wanted).values_list("pk", "factors")) if wanted else {}
    return [
        {
            "day": new.day,
            "since": old.day,
            "band_from": old.band,
            "band_to": new.band,
            "delta": (new.score - old.score) if new.score is not None and old.score is not None else None,
            "text": scoring.explain_change(factors[old.pk], factors[new.pk], old.score, new.score),
            "version_changed": new.version_id != old.version_id,
        }
        for new, old in pairs
    ]


def trend_chart(snapshots: list[HealthSnapshot], bands: scoring.Bands) -> dict:
    """Chart.js config: the score over the days, with the band thresholds as dashed lines."""
    labels = [s.day.strftime("%b %-d") for s in snapshots]
    return {
        "type": "line",
        "data": {
            "labels": labels,
            "datasets": [
                {"label": "Health score", "data": [s.score for s in snapshots], "borderColor": "#3457d5",
                 "backgroundColor": "#3457d5", "pointRadius": 0, "tension": 0, "spanGaps": True},
                {"label": f"Green ≥ {bands.green_min}", "data": [bands.green_min] * len(snapshots),
                 "borderColor": "#1f8a4c", "borderDash": [4, 4], "pointRadius": 0, "borderWidth": 1},
                {"label": f"Red < {bands.yellow_min}", "data": [bands.yellow_min] * len(snapshots),
                 "borderColor": "#c0392b", "borderDash": [4, 4], "pointRadius": 0, "borderWidth": 1},
            ],
        },
        "options": {
            "maintainAspectRatio": False,
            "animation": False,
            "plugins": {"legend": {"position": "bottom"}},
            "scales": {"y": {"min": 0, "max": 100}, "x": {"ticks": {"maxTicksLimit": 8}}},
        },
    }  # fmt: skip


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


def account_health(*, account: Account, today: dt.date | None = None) -> dict:
    """Everything the Customer 360 health section shows, in a fixed number of queries."""
    today = today or timezone.localdate()
    # The trend's columns only: an index-only scan of (account, day) INCLUDE (…), not one heap page per day.
    snapshots = list(
        HealthSnapshot.objects.filter(account=account, day__gt=today - dt.timedelta(days=TREND_DAYS), day__lte=today)
        .only("id", "account_id", "day", "score", "band", "version_id")
        .order_by("day")
    )
    latest = HealthSnapshot.objects.select_related("version__profile").get(pk=snapshots[-1].pk) if snapshots else None
    bands = scoring.Bands(latest.version.green_min, latest.version.yellow_min) if latest else scoring.Bands()
    prediction = ChurnPrediction.objects.filter(account=account).select_related("model").order_by("-day").first()
    breakdown = _breakdown(latest) if latest else []
    drivers, story = [], ""
    if prediction is not None:
        facts = account_metric_facts(account=account, day=latest.day if latest else prediction.day)
        drivers = churn_drivers(drivers=prediction.drivers, facts=facts)
        if latest is not None:
            story = churn_risk_story(
                band=latest.band, score=latest.score, probability=prediction.probability,
                horizon_days=prediction.model.horizon_days, drivers=drivers, breakdown=breakdown,
            )  # fmt: skip
    return {
        "account": account,
        "snapshot": latest,
        "breakdown": breakdown,
        "drivers": drivers,
        "risk_story": story,
        "missing_labels": [scoring.factor_label(k) for k in latest.missing] if latest else [],
        "trend_chart": trend_chart(snapshots, bands),
        "trend_chart_id": f"health-trend-{account.pk}",
        "changelog": changelog(snapshots),
        "sentiment": CsmSentiment.objects.filter(account=account, expires_on__gt=today)
        .select_related("author")
        .first(),
        "prediction": prediction,
        "silent_churn": bool(latest and account.metrics.filter(day=latest.day, silent_churn=True).exists()),
        "last_meaningful_day": UsageDaily.objects.filter(account=account, meaningful=True, day__lte=today)
        .order_by("-day")
        .values_list("day", flat=True)
        .first(),
        "meaningful_definition": conf.meaningful_activity_definition(),
    }


def profiles() -> QuerySet[HealthProfile]:
    return HealthProfile.objects.prefetch_related("versions").order_by("segment")


def profile_versions(*, profile: HealthProfile) -> QuerySet[HealthProfileVersion]:
    return profile.versions.select_related("created_by").order_by("-number")


def draft_of(*, profile: HealthProfile) -> HealthProfileVersion | None:
    return profile.versions.filter(status=VersionStatus.DRAFT).first()


def published_of(*, profile: HealthProfile) -> HealthProfileVersion | None:
    return profile.versions.filter(status=VersionStatus.PUBLISHED).first()


def current_model() -> ChurnModelVersion | None:
    return ChurnModelVersion.objects.filter(status=ModelStatus.PROMOTED).first()


def latest_backtest() -> ChurnModelVersion | None:
    """The newest trained version that carries a rolling-origin backtest of the candidates."""
    return (
        ChurnModelVersion.objects.defer("artifact")
        .exclude(status=ModelStatus.FAILED)
        .filter(metrics__has_key="lab")
        .order_by("-created_at")
        .first()
    )


def model_versions(limit: int = 20) -> list[ChurnModelVersion]:
    return list(ChurnModelVersion.objects.defer("artifact").order_by("-created_at")[:limit])


def priorities(*, owner=None, limit: int | None = None) -> QuerySet[ChurnPrediction]:
    """Today's (latest) predictions ranked by expected revenue saved; `owner` narrows to one CSM's book."""
    latest = ChurnPrediction.objects.order_by("-day").values_list("day", flat=True).first()
    qs = ChurnPrediction.objects.filter(day=latest).select_related("account__owner", "model")
    if owner is not None:
        qs = qs.filter(account__owner=owner)
    qs = qs.order_by("-expected_saved", "account_id")
    return qs[:limit] if limit is not None else qs


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


def _covered(frame: pd.DataFrame, profile: HealthProfile) -> pd.DataFrame:
    """The rows a profile scores: its segment, or for the default every segment without its own profile."""
    if profile.segment:
        return frame[frame["segment"] == profile.segment]
    own = set(
        HealthProfile.objects.exclude(segment="")
        .filter(versions__status=VersionStatus.PUBLISHED)
        .values_list("segment", flat=True)
    )
    return frame[~frame["segment"].isin(own)]


def latest_metrics_frame() -> tuple[dt.date | None, pd.DataFrame]:
    """The newest day's stored metrics of every account, with its segment and current band (one query each)."""
    day = AccountMetrics.objects.order_by("-day").values_list("day", flat=True).first()
    if day is None:
        return None, pd.DataFrame(columns=[*METRIC_KEYS, "segment", "band", "name"])
    rows = AccountMetrics.objects.filter(day=day).values(
        "account_id", "account__segment", "account__name", *METRIC_KEYS
    )
    frame = pd.DataFrame.from_records(list(rows)).set_index("account_id")
    frame = frame.rename(columns={"account__segment": "segment", "account__name": "name"})
    for key in METRIC_KEYS:
        frame[key] = pd.to_numeric(frame[key], errors="coerce").astype(float)
    bands = dict(HealthSnapshot.objects.filter(day=day).values_list("account_id", "band"))
    frame["band"] = [bands.get(pk, "") for pk in frame.index]
    return day, frame


def profile_preview(*, profile: HealthProfile, factors: list[dict], bands: scoring.Bands, limit: int = 15) -> dict:
    """If these factors were published now: the band distribution, and the accounts that would change band."""
    day, frame = latest_metrics_frame()
    frame = _covered(frame, profile) if not frame.empty else frame
    if frame.empty:
        return {"day": day, "n": 0}
    result = scoring.score_frame(frame, factors, bands)
    now = frame["band"]
    new = result.band
    counts = {b: int((new == b).sum()) for b in ("green", "yellow", "red")}
    before = {b: int((now == b).sum()) for b in ("green", "yellow", "red")}
    changed = frame.index[(now != new) & (now != "")]
    movers = sorted(
        (
            {"account_id": pk, "name": frame.at[pk, "name"], "from": now[pk], "to": new[pk],
             "score": None if pd.isna(result.score[pk]) else int(result.score[pk])}
            for pk in changed
        ),
        key=lambda m: (m["to"] != "red", m["name"]),
    )  # fmt: skip
    total = max(len(frame), 1)
    return {
        "day": day,
        "n": len(frame),
        "after": counts,
        "before": before,
        "after_pct": {b: 100 * c / total for b, c in counts.items()},
        "before_pct": {b: 100 * c / total for b, c in before.items()},
        "changed": len(changed),
        "movers": movers[:limit],
    }


def profile_backtest(*, factors: list[dict], bands: scoring.Bands, months: int = 12) -> dict:
    """Replay the factors over the last `months` of labelled monthly observations."""
    from health.backtest import backtest_profile
    from health.services import observations_frame

    today = timezone.localdate()
    since = (today.replace(day=1) - dt.timedelta(days=31 * months)).replace(day=1)
    frame = observations_frame(since=since)
    if frame.empty:
        return {"n": 0, "message": "No observations yet: train the churn model (or run build_observations) first."}
    return backtest_profile(frame, factors, bands)


# --- Reads for the dashboards (band movement, engagement frequency) ---------------------------------------------


def snapshot_day_bounds(*, start: dt.date, end: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The first and the last day in [start, end] (both inclusive) with health snapshots; (None, None) if none."""
    bounds = HealthSnapshot.objects.filter(day__gte=start, day__lte=end).aggregate(first=Min("day"), last=Max("day"))
    return bounds["first"], bounds["last"]


def _band_pairs(*, start_day: dt.date, end_day: dt.date, accounts: QuerySet | None, by_group: bool = False) -> QuerySet:
    """Per account with a snapshot on either day: its band on `start_day` (`from_band`) and on `end_day`
    (`to_band`); null where it has no snapshot that day, "" where its snapshot has no score. `by_group` adds
    the account's segment and plan (`g_segment`, `g_plan`)."""
    snapshots = HealthSnapshot.objects.filter(day__in=[start_day, end_day])
    if accounts is not None:
        snapshots = snapshots.filter(account__in=accounts)
    groups = {"g_segment": F("account__segment"), "g_plan": F("account__plan")} if by_group else {}
    return (
        snapshots.values("account_id", **groups)
        .annotate(from_band=Max("band", filter=Q(day=start_day)), to_band=Max("band", filter=Q(day=end_day)))
        .order_by()
    )


def band_transitions(
    *, start_day: dt.date, end_day: dt.date, accounts: QuerySet | None = None, by_group: bool = False
) -> list[dict]:
    """How many accounts moved from each band on `start_day` to each band on `end_day`: rows of from_band,
    to_band (green, yellow, red or "" — not scored, or no snapshot that day) and n, and with `by_group` per
    segment and plan of the account (for the dashboards' facts). One grouped query, counted again in the
    database (the per-account pairs never leave it). `accounts`: a subquery of account ids."""
    pairs = _band_pairs(start_day=start_day, end_day=end_day, accounts=accounts, by_group=by_group)
    sql, params = pairs.query.sql_with_params()
    groups = ("segment", "plan") if by_group else ()
    columns = "".join(f"pairs.g_{name}, " for name in groups)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}COALESCE(pairs.from_band, ''), COALESCE(pairs.to_band, ''), COUNT(*) "
            f"FROM ({sql}) pairs GROUP BY {', '.join(str(i) for i in range(1, len(groups) + 3))}",
            params,
        )
        names = [*groups, "from_band", "to_band", "n"]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def band_transition_accounts(
    *, start_day: dt.date, end_day: dt.date, from_band: str, to_band: str, accounts: QuerySet | None = None
) -> QuerySet:
    """Ids of the accounts that moved from `from_band` to `to_band` ("" = not scored or no snapshot)."""

    def band(name: str, value: str) -> Q:
        return Q(**{name: value}) if value else Q(**{f"{name}__isnull": True}) | Q(**{name: ""})

    pairs = _band_pairs(start_day=start_day, end_day=end_day, accounts=accounts)
    return pairs.filter(band("from_band", from_band) & band("to_band", to_band)).values_list("account_id", flat=True)


def metrics_day_on_or_before(*, day: dt.date, since: dt.date | None = None) -> dt.date | None:
    """The newest day with stored account metrics on or before `day` (and on or after `since`)."""
    days = AccountMetrics.objects.filter(day__lte=day)
    if since is not None:
        days = days.filter(day__gte=since)
    return days.aggregate(last=Max("day"))["last"]


def active_days_on(*, day: dt.date, accounts: QuerySet | None = None) -> QuerySet[AccountMetrics]:
    """Stored metrics of `day` (one row per account; `active_days_30`: days with a meaningful event in the 30 days
    up to that day), for the accounts in `accounts` (a subquery of ids) or all."""
    rows = AccountMetrics.objects.filter(day=day)
    return rows if accounts is None else rows.filter(account__in=accounts)


def active_days_by_group(*, day: dt.date) -> list[dict]:
    """Accounts with stored metrics on `day` per segment × plan of the account and active days in the 30 days up
    to that day: rows of segment, plan, active_days, n (for the dashboards' facts)."""
    rows = (
        AccountMetrics.objects.filter(day=day)
        .values(segment=F("account__segment"), plan=F("account__plan"), active_days=F("active_days_30"))
        .annotate(n=Count("id"))
        .order_by()
    )
    return list(rows)


def features_adopted(*, account_ids: list[int]) -> dict[int, list[str]]:
    """The key features each account has used, first adopted first (for mail personalised by past usage)."""
    out: dict[int, list[str]] = {account_id: [] for account_id in account_ids}
    rows = FeatureFirstUse.objects.filter(account_id__in=account_ids).order_by("account_id", "first_day", "feature")
    for account_id, feature in rows.values_list("account_id", "feature"):
        out[account_id].append(feature)
    return out


# --- Facts for the churn model's behavioural features -------------------------------------------------------------


def churn_facts(*, since: dt.date, until: dt.date, account_ids: list[int] | None = None) -> Facts:
    """The facts `health.features` computes observations from, dated in [since, until]: event counts per type and
    day from the daily rollups (never the raw events), activity per day, subscriptions, tickets and surveys; of
    every account or of `account_ids` only."""

    def of(queryset, field="account_id"):
        return queryset if account_ids is None else queryset.filter(**{f"{field}__in": account_ids})

    rollups = of(UsageDaily.objects.filter(day__gte=since, day__lte=until)).values_list(
        "account_id", "day", "events", "active_users", "by_type"
    )
    ids, days, kinds, counts, activity = [], [], [], [], []
    for account_id, day, n_events, users, by_type in rollups.iterator(chunk_size=5000):
        activity.append((account_id, day, n_events, users))
        for kind, n in (by_type or {}).items():
            ids.append(account_id)
            days.append(day)
            kinds.append(kind)
            counts.append(n)
    daily = pd.DataFrame({"account_id": ids, "day": days, "event_type": kinds, "n": counts})
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    subs = pd.DataFrame.from_records(
        list(
            of(Subscription.objects.filter(start_date__lte=until)).values_list(
                "account_id", "product", "start_date", "end_date", "mrr", "quantity", "billing_period"
            )
        ),
        columns=["account_id", "product", "start_date", "end_date", "mrr", "quantity", "billing_period"],
    )
    subs["mrr"] = subs["mrr"].astype(float)
    tickets = pd.DataFrame.from_records(
        list(
            of(SupportTicket.objects.filter(opened_at__gte=start, opened_at__lt=end)).values_list(
                "account_id", "opened_at"
            )
        ),
        columns=["account_id", "day"],
    )
    tickets["day"] = pd.to_datetime(tickets["day"], utc=True).dt.date
    surveys = pd.DataFrame.from_records(
        list(
            of(SurveyResponse.objects.filter(responded_at__lt=end)).values_list(
                "account_id", "kind", "score", "responded_at"
            )
        ),
        columns=["account_id", "kind", "score", "day"],
    )
    surveys["day"] = pd.to_datetime(surveys["day"], utc=True).dt.date
    accounts = pd.DataFrame.from_records(
        list(of(Account.objects, "pk").values_list("pk", "created_at")), columns=["account_id", "created_day"]
    )
    accounts["created_day"] = pd.to_datetime(accounts["created_day"], utc=True).dt.date
    return Facts(
        daily=daily,
        activity=pd.DataFrame.from_records(activity, columns=["account_id", "day", "events", "active_users"]),
        subscriptions=subs,
        tickets=tickets,
        surveys=surveys,
        accounts=accounts,
    )


def lab_runs(*, limit: int | None = 10) -> QuerySet:
    """Churn-model lab runs, newest first."""
    runs = ChurnLabRun.objects.order_by("-created_at", "-pk")
    return runs if limit is None else runs[:limit]
