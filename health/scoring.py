"""Health-score arithmetic: pure functions over pandas frames, no database.

A profile version is a list of factors, each {"key", "weight", "method", …}:
- "thresholds": piecewise-linear between [value, score] points (flat outside them), e.g. active days
  [[0, 0], [20, 100]] gives 50 at 10 days;
- "percentile": the account's percentile rank among the peers scored together (0–100), reversed when
  `higher_is_better` is false.

score = Σ weightᵢ · normalisedᵢ / Σ weightᵢ over the factors the account has a value for. A factor without a
value (no survey answered, no seats…) is left out and the remaining weights are renormalised; the snapshot
lists it as missing so the UI can say so. contributionᵢ = weightᵢ / Σ weights present · normalisedᵢ, in points:
the contributions add up to the score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

# key: (label, unit shown after the raw value, True when a higher raw value is healthier)
FACTORS: dict[str, tuple[Promise | str, str, bool]] = {
    "active_days_30": (_("active days"), "", True),
    "active_days_7": (_("active days (7 d)"), "", True),
    "days_since_meaningful": (_("days since meaningful activity"), "", False),
    "feature_breadth": (_("key features used"), "", True),
    "seat_depth": (_("seat depth"), "", True),
    "events_per_active_user": (_("events per active user"), "", True),
    "usage_trend": (_("usage trend"), "", True),
    "tickets_30d": (_("tickets in 30 days"), "", False),
    "open_tickets": (_("open tickets"), "", False),
    "oldest_open_ticket_days": (_("oldest open ticket (days)"), "", False),
    "nps": (_("latest NPS"), "", True),
    "csat": (_("latest CSAT"), "", True),
    "payment_failures_60d": (_("payment failures in 60 days"), "", False),
    "tenure_days": (_("tenure (days)"), "", True),
    "value_per_dollar": (_("value per $100 MRR"), "", True),
    "mrr_change_90d": (_("MRR change in 90 days"), "", True),
    "billing_period": (_("billing period (months)"), "", True),
    "days_to_renewal": (_("days to renewal"), "", True),
    "mrr": (_("MRR"), "", True),
    "seats": (_("seats"), "", True),
    "events_30": (_("events in 30 days"), "", True),
    "active_users_30": (_("active users"), "", True),
    "csm_sentiment": (_("CSM sentiment"), "", True),
}
# The factors a health profile offers (the rest of FACTORS label churn-model drivers).
PROFILE_FACTORS = (
    "active_days_30", "active_days_7", "days_since_meaningful", "feature_breadth", "seat_depth",
    "events_per_active_user", "usage_trend", "tickets_30d", "open_tickets", "oldest_open_ticket_days", "nps",
    "csat", "payment_failures_60d", "tenure_days", "value_per_dollar", "csm_sentiment", "mrr_change_90d",
)  # fmt: skip
METHODS = ("thresholds", "percentile")


@dataclass(frozen=True)
class Bands:
    green_min: int = 70
    yellow_min: int = 40


def factor_label(key: str) -> str:
    return str(FACTORS.get(key, (key.replace("_", " "), "", True))[0])


def validate_profile(factors: list[dict], green_min: int, yellow_min: int) -> list[str]:
    """Every problem with a profile, in words; empty when it can be used."""
    errors: list[str] = []
    if not factors:
        errors.append(gettext("A profile needs at least one factor."))
    seen: set[str] = set()
    total = 0.0
    for factor in factors:
        key = factor.get("key")
        if key not in PROFILE_FACTORS:
            errors.append(gettext("Unknown factor %(key)r.") % {"key": key})
            continue
        named = {"factor": factor_label(key)}
        if key in seen:
            errors.append(gettext("Factor %(factor)s appears twice.") % named)
        seen.add(key)
        try:
            weight = float(factor.get("weight"))
        except (TypeError, ValueError):
            errors.append(gettext("The weight of %(factor)s is not a number.") % named)
            continue
        if not math.isfinite(weight) or weight < 0:
            errors.append(gettext("The weight of %(factor)s must be zero or more.") % named)
        total += weight if math.isfinite(weight) else 0
        method = factor.get("method")
        if method not in METHODS:
            errors.append(
                gettext("%(factor)s: normalisation must be one of %(methods)s.")
                % {**named, "methods": ", ".join(METHODS)}
            )
        elif method == "thresholds":
            points = factor.get("points") or []
            try:
                xs = [float(p[0]) for p in points]
                ys = [float(p[1]) for p in points]
            except (TypeError, ValueError, IndexError):
                errors.append(gettext("%(factor)s: thresholds must be [value, score] pairs.") % named)
                continue
            if len(points) < 2:
                errors.append(gettext("%(factor)s: give at least two threshold points.") % named)
            if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
                errors.append(gettext("%(factor)s: threshold values must increase.") % named)
            if any(y < 0 or y > 100 for y in ys):
                errors.append(gettext("%(factor)s: threshold scores must be between 0 and 100.") % named)
    if factors and total <= 0:
        errors.append(gettext("The weights must add up to more than zero."))
    if not (0 < yellow_min < green_min <= 100):
        errors.append(gettext("Band thresholds must satisfy 0 < yellow < green ≤ 100."))
    return errors


def normalise_thresholds(values: pd.Series, points: list[list[float]]) -> pd.Series:
    xs = np.array([float(p[0]) for p in points])
    ys = np.array([float(p[1]) for p in points])
    raw = values.astype(float).to_numpy()
    out = np.interp(raw, xs, ys)
    out[np.isnan(raw)] = np.nan
    return pd.Series(out, index=values.index)


def normalise_percentile(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Percentile rank (0–100) among the non-missing values; ties share their average rank."""
    values = values.astype(float)
    return (values if higher_is_better else -values).rank(pct=True, method="average") * 100


def normalise(values: pd.Series, factor: dict) -> pd.Series:
    if factor["method"] == "percentile":
        return normalise_percentile(values, factor.get("higher_is_better", True))
    return normalise_thresholds(values, factor["points"])


def band_for(score: float | None, bands: Bands) -> str:
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return ""
    if score >= bands.green_min:
        return "green"
    if score >= bands.yellow_min:
        return "yellow"
    return "red"


@dataclass
class ScoreResult:
    """Per account (index): score (0–100, NaN when no factor had a value), band, and per factor raw,
    normalised and contribution frames (columns = factor keys), plus the renormalised weight shares."""

    score: pd.Series
    band: pd.Series
    raw: pd.DataFrame
    normalised: pd.DataFrame
    contribution: pd.DataFrame
    share: pd.DataFrame

    def missing(self, account_id) -> list[str]:
        row = self.raw.loc[account_id]
        return [key for key in self.raw.columns if pd.isna(row[key])]


def score_frame(metrics: pd.DataFrame, factors: list[dict], bands: Bands) -> ScoreResult:
    """Score every row of `metrics` (one per account, columns = metric keys) with one profile version."""
    keys = [f["key"] for f in factors]
    raw = pd.DataFrame(
        {k: (metrics[k].astype(float) if k in metrics else pd.Series(np.nan, index=metrics.index)) for k in keys},
        index=metrics.index,
    )
    normalised = pd.DataFrame({f["key"]: normalise(raw[f["key"]], f) for f in factors}, index=metrics.index)
    weights = pd.Series({f["key"]: float(f["weight"]) for f in factors})
    present = normalised.notna()
    weight_present = present.mul(weights, axis=1)
    total = weight_present.sum(axis=1)
    share = weight_present.div(total.where(total > 0), axis=0)
    contribution = (share * normalised.fillna(0)).where(present)
    score = contribution.sum(axis=1, min_count=1).where(total > 0).round()
    band = score.map(lambda s: band_for(None if pd.isna(s) else float(s), bands))
    return ScoreResult(score, band, raw, normalised, contribution, share)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:.0f}"
    return f"{int(value)}"


def _signed(points: float) -> str:
    rounded = round(points)
    return f"+{rounded}" if rounded > 0 else f"−{abs(rounded)}" if rounded < 0 else "±0"


def explain_change(old: dict, new: dict, old_score: int | None, new_score: int | None, top: int = 3) -> str:
    """One changelog line, in the reader's language: "score fell 18 points: active days 22→6 (−12), 2 new tickets (−6)".

    `old` and `new` are snapshot factor maps {key: [raw, normalised, contribution]}; the factors whose
    contribution moved most explain the change (a factor that appeared or went missing counts fully).
    """
    if old_score is None or new_score is None:
        return gettext("score is now available") if new_score is not None else gettext("score is no longer available")
    delta = new_score - old_score
    if delta > 0:
        head = ngettext("score rose %(n)s point", "score rose %(n)s points", round(delta)) % {"n": delta}
    elif delta < 0:
        head = ngettext("score fell %(n)s point", "score fell %(n)s points", round(-delta)) % {"n": -delta}
    else:
        head = gettext("score held")
    moves = []
    for key in set(old) | set(new):
        before = old.get(key) or [None, None, None]
        after = new.get(key) or [None, None, None]
        change = (after[2] or 0) - (before[2] or 0)
        moves.append((abs(change), key, before[0], after[0], change))
    moves.sort(key=lambda m: (-m[0], m[1]))
    parts = []
    for size, key, before, after, change in moves[:top]:
        if size < 0.5:
            continue
        if key == "tickets_30d" and before is not None and after is not None and after > before:
            added = after - before
            what = ngettext("%(n)s new ticket", "%(n)s new tickets", round(added)) % {"n": _fmt(added)}
        else:
            what = f"{factor_label(key)} {_fmt(before)}→{_fmt(after)}"
        parts.append(f"{what} ({_signed(change)})")
    return head + (": " + ", ".join(parts) if parts else "")


# The default profile (also written by the data migration 0002_default_profile, which keeps its own copy).
DEFAULT_FACTORS: list[dict] = [
    {"key": "active_days_30", "weight": 20, "method": "thresholds", "points": [[0, 0], [4, 30], [12, 70], [20, 100]]},
    {
        "key": "days_since_meaningful",
        "weight": 15,
        "method": "thresholds",
        "points": [[0, 100], [7, 80], [14, 50], [30, 0]],
    },
    {"key": "feature_breadth", "weight": 10, "method": "thresholds", "points": [[0, 0], [1, 30], [3, 70], [5, 100]]},
    {"key": "seat_depth", "weight": 10, "method": "thresholds", "points": [[0, 0], [0.3, 40], [0.7, 90], [1, 100]]},
    {
        "key": "usage_trend",
        "weight": 10,
        "method": "thresholds",
        "points": [[-0.6, 0], [-0.2, 50], [0, 75], [0.2, 100]],
    },
    {"key": "tickets_30d", "weight": 8, "method": "thresholds", "points": [[0, 100], [2, 60], [5, 0]]},
    {"key": "oldest_open_ticket_days", "weight": 5, "method": "thresholds", "points": [[0, 100], [5, 60], [14, 0]]},
    {"key": "nps", "weight": 8, "method": "thresholds", "points": [[0, 0], [6, 30], [8, 70], [10, 100]]},
    {"key": "csat", "weight": 4, "method": "thresholds", "points": [[1, 0], [3, 50], [5, 100]]},
    {"key": "payment_failures_60d", "weight": 5, "method": "thresholds", "points": [[0, 100], [1, 40], [3, 0]]},
    {"key": "value_per_dollar", "weight": 5, "method": "percentile", "higher_is_better": True},
    {"key": "csm_sentiment", "weight": 5, "method": "thresholds", "points": [[1, 0], [3, 50], [5, 100]]},
]
