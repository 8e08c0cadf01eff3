"""Health profiles: their versions for the profile editor, and what a draft's factors would do if published now
(band preview) or over the past (backtest on the labelled monthly observations)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db.models import QuerySet
from django.utils import timezone

from health import scoring
from health.backtest import backtest_profile
from health.metrics import METRIC_KEYS
from health.models import AccountMetrics, HealthProfile, HealthProfileVersion, HealthSnapshot, VersionStatus
from health.observations import observations_frame


def profiles() -> QuerySet[HealthProfile]:
    return HealthProfile.objects.prefetch_related("versions").order_by("segment")


def profile_versions(*, profile: HealthProfile) -> QuerySet[HealthProfileVersion]:
    return profile.versions.select_related("created_by").order_by("-number")


def all_profile_versions() -> QuerySet[HealthProfileVersion]:
    """Every version of every profile: per segment, newest first."""
    return HealthProfileVersion.objects.select_related("profile").order_by("profile__segment", "-number")


def draft_of(*, profile: HealthProfile) -> HealthProfileVersion | None:
    return profile.versions.filter(status=VersionStatus.DRAFT).first()


def published_of(*, profile: HealthProfile) -> HealthProfileVersion | None:
    return profile.versions.filter(status=VersionStatus.PUBLISHED).first()


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
    today = timezone.localdate()
    since = (today.replace(day=1) - dt.timedelta(days=31 * months)).replace(day=1)
    frame = observations_frame(since=since)
    if frame.empty:
        return {"n": 0, "message": "No observations yet: train the churn model (or run build_observations) first."}
    return backtest_profile(frame, factors, bands)
