"""Writes of the health app: metrics, snapshots, profiles and their versions, CSM sentiment.

Recomputation is set-based over all accounts: one `compute_metrics` pass (a handful of grouped queries),
pandas scoring per profile, bulk writes, and one bulk update of the cached fields on Account.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import accounts_active_on
from accounts.services.health_cache import account_set_health_bulk
from churnapp import derived
from churnapp.queries import filter_ids
from churnapp.roles import can_configure, can_edit_account
from health import conf, scoring
from health.bulk import bulk_insert
from health.churn_services import (  # noqa: F401  (the churn model's services)
    churn_model_train,
    churn_predict,
    lab_run_execute,
    lab_run_request,
    lab_split,
)
from health.features.observations import month_starts
from health.metrics import METRIC_KEYS, compute_metrics
from health.models import (
    AccountMetrics,
    ChurnObservation,
    CsmSentiment,
    HealthProfile,
    HealthProfileVersion,
    HealthSnapshot,
    ScoreMark,
    VersionStatus,
)
from health.rescore import day_scored, health_rescore, rescore_marked, scoring_lock  # noqa: F401 (incremental health)
from health.rollups import rollups_rebuild, rollups_refresh, rollups_refresh_marked, rollups_sweep  # noqa: F401  (the ingestion-facing services)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

BATCH = 2000


def _clean(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def published_versions() -> dict[str, HealthProfileVersion]:
    """The published version per segment ("" = the default profile)."""
    versions = HealthProfileVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("profile")
    return {v.profile.segment: v for v in versions}


def version_for_segments(versions: dict[str, HealthProfileVersion], segments: pd.Series) -> pd.Series:
    """Which version scores each account: its segment's profile, else the default."""
    default = versions.get("")
    return segments.map(lambda s: (versions.get(s) or default).pk if (versions.get(s) or default) else None)


def score_with_versions(
    metrics: pd.DataFrame, versions: dict[str, HealthProfileVersion], override: HealthProfileVersion | None = None
) -> tuple[pd.DataFrame, dict[int, scoring.ScoreResult]]:
    """Score each account with its profile (or `override` for all). Peers for percentile factors are the
    accounts scored by the same version. Returns (per account: version_id, score, band) and the results."""
    if override is not None:
        chosen = pd.Series(override.pk, index=metrics.index)
        by_pk = {override.pk: override}
    else:
        chosen = version_for_segments(versions, metrics["segment"])
        by_pk = {v.pk: v for v in versions.values()}
    results: dict[int, scoring.ScoreResult] = {}
    parts = []
    for version_id, index in chosen.dropna().groupby(chosen.dropna()).groups.items():
        version = by_pk[int(version_id)]
        result = scoring.score_frame(
            metrics.loc[index], version.factors, scoring.Bands(version.green_min, version.yellow_min)
        )
        results[int(version_id)] = result
        parts.append(pd.DataFrame({"version_id": int(version_id), "score": result.score, "band": result.band}))
    frame = pd.concat(parts) if parts else pd.DataFrame(columns=["version_id", "score", "band"])
    return frame, results


def _factor_maps(result: scoring.ScoreResult, only: set[int] | None = None) -> dict[int, dict]:
    """{account_id: {factor: [raw, normalised, contribution]}} with None for missing values, vectorised; of every
    scored account or of `only` those."""
    keys = list(result.raw.columns)
    rows = result.raw.index if only is None else result.raw.index[result.raw.index.isin(list(only))]
    arrays = [
        result.raw.loc[rows].to_numpy(dtype=float).round(3),
        result.normalised.loc[rows].to_numpy(dtype=float).round(1),
        result.contribution.loc[rows].to_numpy(dtype=float).round(2),
    ]
    values = [[[None if v != v else float(v) for v in row] for row in a] for a in arrays]  # v != v: NaN
    return {
        account_id: {key: [values[0][i][j], values[1][i][j], values[2][i][j]] for j, key in enumerate(keys)}
        for i, account_id in enumerate(rows)
    }


def _write_metrics(metrics: pd.DataFrame, day: dt.date, *, account_ids: list[int] | None = None) -> None:
    """Replace the day's metrics: of every account, or of `account_ids` only (incremental rescoring)."""
    stored = AccountMetrics.objects.filter(day=day)
    (stored if account_ids is None else stored.filter(account_id__in=account_ids)).delete()
    frame = metrics[METRIC_KEYS].astype(object).where(metrics[METRIC_KEYS].notna(), None)
    rows = []
    for account_id, row in zip(frame.index, frame.to_dict("records"), strict=True):
        values = {k: _clean(v) for k, v in row.items()}
        values["silent_churn"] = bool(values["silent_churn"])
        rows.append({"account_id": account_id, "day": day, **values})
    bulk_insert(AccountMetrics, rows)


def snapshot_rows(results: dict[int, scoring.ScoreResult], day: dt.date, *, only: set[int] | None = None) -> list[dict]:
    """HealthSnapshot rows of the scored accounts (or of `only` those), with every factor's breakdown."""
    now = timezone.now()
    rows = []
    for version_id, result in results.items():
        maps = _factor_maps(result, only)
        for account_id, factors in maps.items():
            score = result.score.at[account_id]
            rows.append(
                {
                    "account_id": account_id,
                    "day": day,
                    "version_id": version_id,
                    "score": None if pd.isna(score) else int(score),
                    "band": result.band.at[account_id],
                    "factors": factors,
                    "missing": [k for k, (raw, _n, _c) in factors.items() if raw is None],
                    "scored_at": now,
                }
            )
    return rows


def cache_rows(snapshots: list[dict], day: dt.date) -> list[dict]:
    """The cached health fields on Account for these snapshots: score, band and the 30-day trend."""
    month_ago = dict(
        filter_ids(
            HealthSnapshot.objects.filter(day=day - dt.timedelta(days=30), score__isnull=False),
            [s["account_id"] for s in snapshots],
        ).values_list("account_id", "score")
    )
    rows = []
    for snap in snapshots:
        before = month_ago.get(snap["account_id"])
        trend = snap["score"] - before if snap["score"] is not None and before is not None else None
        rows.append(
            {
                "account_id": snap["account_id"],
                "health_score": snap["score"],
                "health_band": snap["band"],
                "health_trend": trend,
                "health_scored_at": snap["scored_at"],
            }
        )
    return rows


@transaction.atomic
def health_recompute(*, day: dt.date | None = None, cache_on_accounts: bool | None = None) -> dict[str, int]:
    """Metrics and health snapshots of every scored account for `day` (default today), replacing that day's.

    For today the score, band and 30-day trend are also cached on Account (accounts no longer scored, e.g.
    churned, get their cached health cleared). Idempotent: rerunning a day rewrites the same rows.
    """
    today = timezone.localdate()
    day = day or today
    cache = (day == today) if cache_on_accounts is None else cache_on_accounts
    started = timezone.now()
    scoring_lock()
    versions = published_versions()
    metrics = compute_metrics(as_of=day)
    _write_metrics(metrics, day)
    scores, results = score_with_versions(metrics, versions)

    HealthSnapshot.objects.filter(day=day).delete()
    snapshots = snapshot_rows(results, day)
    bulk_insert(HealthSnapshot, snapshots)

    if cache:
        rows = cache_rows(snapshots, day)
        scored = {snap["account_id"] for snap in snapshots}
        stale = Account.objects.exclude(health_band="").values_list("pk", flat=True)
        rows += [
            {"account_id": pk, "health_score": None, "health_band": "", "health_trend": None, "health_scored_at": None}
            for pk in stale
            if pk not in scored
        ]
        account_set_health_bulk(rows=rows)
        # Every fact stored before the run is scored: a mark whose latest marking is older goes. (The run holds the
        # scoring lock, which a rescoring takes before it claims marks: no claimed mark is in the way.)
        marked_before = Q(last_marked_at__lt=started) | Q(last_marked_at__isnull=True, marked_at__lt=started)
        ScoreMark.objects.filter(marked_before).delete()
    return {"day": day.isoformat(), "accounts": len(snapshots), "metrics": len(metrics)}


def health_backfill(*, days: int, end: dt.date | None = None, log=None) -> int:
    """Snapshots for each of the last `days` days (oldest first), so trend charts have a history."""
    end = end or timezone.localdate()
    for offset in range(days - 1, -1, -1):
        day = end - dt.timedelta(days=offset)
        result = health_recompute(day=day, cache_on_accounts=(offset == 0))
        if log:
            log(f"{day}: {result['accounts']} accounts scored")
    return days


# Profiles -----------------------------------------------------------------------------------------------------


def _ensure_configure(actor: AbstractBaseUser | None) -> None:
    if actor is not None and not can_configure(actor):
        raise PermissionDenied("Only managers and admins configure health profiles.")


def profile_create(*, name: str, segment: str, actor: AbstractBaseUser | None) -> HealthProfile:
    """A profile for a segment, starting as a draft copy of the default profile's published factors."""
    _ensure_configure(actor)
    if HealthProfile.objects.filter(segment=segment).exists():
        raise ValidationError("That segment already has a profile.")
    profile = HealthProfile.objects.create(name=name, segment=segment)
    default = HealthProfileVersion.objects.filter(profile__segment="", status=VersionStatus.PUBLISHED).first()
    HealthProfileVersion.objects.create(
        profile=profile,
        number=1,
        factors=default.factors if default else scoring.DEFAULT_FACTORS,
        green_min=default.green_min if default else 70,
        yellow_min=default.yellow_min if default else 40,
        created_by=actor,
    )
    return profile


@transaction.atomic
def profile_draft_get_or_create(*, profile: HealthProfile, actor: AbstractBaseUser | None) -> HealthProfileVersion:
    """The profile's draft; a new one starts as a copy of the published version."""
    _ensure_configure(actor)
    draft = profile.versions.filter(status=VersionStatus.DRAFT).first()
    if draft:
        return draft
    current = profile.versions.filter(status=VersionStatus.PUBLISHED).first()
    last = profile.versions.order_by("-number").first()
    return HealthProfileVersion.objects.create(
        profile=profile,
        number=(last.number + 1) if last else 1,
        factors=current.factors if current else scoring.DEFAULT_FACTORS,
        green_min=current.green_min if current else 70,
        yellow_min=current.yellow_min if current else 40,
        created_by=actor,
    )


def profile_draft_update(
    *,
    draft: HealthProfileVersion,
    factors: list[dict],
    green_min: int,
    yellow_min: int,
    note: str = "",
    actor: AbstractBaseUser | None,
) -> HealthProfileVersion:
    """Save the draft's factors and bands after validation (published versions never change)."""
    _ensure_configure(actor)
    if draft.status != VersionStatus.DRAFT:
        raise ValidationError("Only a draft can be edited; published versions are kept as they were.")
    errors = scoring.validate_profile(factors, green_min, yellow_min)
    if errors:
        raise ValidationError(errors)
    draft.factors = factors
    draft.green_min = green_min
    draft.yellow_min = yellow_min
    draft.note = note
    draft.save(update_fields=["factors", "green_min", "yellow_min", "note"])
    return draft


@transaction.atomic
def profile_publish(*, draft: HealthProfileVersion, actor: AbstractBaseUser | None) -> HealthProfileVersion:
    """Publish the draft: the previous published version is archived; today's scores are recomputed."""
    _ensure_configure(actor)
    draft = HealthProfileVersion.objects.select_for_update().get(pk=draft.pk)
    if draft.status != VersionStatus.DRAFT:
        raise ValidationError("This version is not a draft.")
    errors = scoring.validate_profile(draft.factors, draft.green_min, draft.yellow_min)
    if errors:
        raise ValidationError(errors)
    draft.profile.versions.filter(status=VersionStatus.PUBLISHED).update(status=VersionStatus.ARCHIVED)
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = timezone.now()
    draft.save(update_fields=["status", "published_at"])
    from health.tasks import recompute_health

    transaction.on_commit(lambda: recompute_health.delay())
    return draft


def sentiment_create(
    *, account: Account, rating: int, comment: str, expires_on: dt.date, author: AbstractBaseUser | None
) -> CsmSentiment:
    """A CSM's rating of an account (1–5) with a reason; it counts as a health factor until it expires."""
    if author is not None and not can_edit_account(author, account):
        raise PermissionDenied("You can only rate the accounts you own.")
    if not 1 <= rating <= 5:
        raise ValidationError("The rating is 1 (very poor) to 5 (very good).")
    if not comment.strip():
        raise ValidationError("Say why: a rating needs a comment.")
    if expires_on <= timezone.localdate():
        raise ValidationError("The expiry date must be in the future.")
    with transaction.atomic():
        sentiment = CsmSentiment.objects.create(
            account=account, rating=rating, comment=comment.strip(), expires_on=expires_on, author=author
        )
        derived.notify(derived.FACTS_CHANGED, [account.pk])
    return sentiment


# Churn model ----------------------------------------------------------------------------------------------------


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
                features={**{k: _clean(v) for k, v in row.items()}, "custom_attributes": attrs[pk] or {}},
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
