"""Scoring every account: metrics, a snapshot per account and day scored by its segment's published profile, and the
cached score, band and trend on Account.

Recomputation is set-based over all accounts: one `compute_metrics` pass (a handful of grouped queries),
pandas scoring per profile, bulk writes, and one bulk update of the cached fields on Account. `health.rescore`
scores some accounts among the stored metrics of all the others.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import pandas as pd
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from accounts.services.health_cache import account_set_health_bulk
from churnapp.queries import filter_ids
from health import scoring
from health.bulk import bulk_insert
from health.metrics import METRIC_KEYS, compute_metrics
from health.models import (
    AccountMetrics,
    HealthProfileVersion,
    HealthSnapshot,
    ScoreMark,
    VersionStatus,
)

if TYPE_CHECKING:
    pass

BATCH = 2000

SCORING_LOCK = 7_201_001  # advisory lock key of the day's score writers


def scoring_lock(*, wait: bool = True) -> bool:
    """Serialise the writers of a day's scores (rescorings, the full run) inside the current transaction: each
    replaces snapshots another one may be replacing (PostgreSQL advisory lock; SQLite writes one at a time).
    Without `wait`, False when another writer holds it."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if not wait:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SCORING_LOCK])
            return bool(cursor.fetchone()[0])
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCORING_LOCK])
    return True


def clean_value(value):
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


def write_metrics(metrics: pd.DataFrame, day: dt.date, *, account_ids: list[int] | None = None) -> None:
    """Replace the day's metrics: of every account, or of `account_ids` only (incremental rescoring)."""
    stored = AccountMetrics.objects.filter(day=day)
    (stored if account_ids is None else stored.filter(account_id__in=account_ids)).delete()
    frame = metrics[METRIC_KEYS].astype(object).where(metrics[METRIC_KEYS].notna(), None)
    rows = []
    for account_id, row in zip(frame.index, frame.to_dict("records"), strict=True):
        values = {k: clean_value(v) for k, v in row.items()}
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
    write_metrics(metrics, day)
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
