"""Live reads from the accounts tables, set-based: a few aggregate queries per request, never one per account.

Active-at-date semantics come from `accounts.selectors.active_on_q`; the per-account arrays built here feed
`dashboards.kpis.metrics`, the same code the fact builder uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from accounts.models import Account, Subscription, SurveyResponse, UsageEvent
from accounts.rates import IN_REPORTING_CURRENCY, foreign_mrr_on
from accounts.selectors import active_on_q
from dashboards.kpis.metrics import CSAT_SCORES, NPS_SCORES, cohort_activity
from dashboards.kpis.periods import instant
from dashboards.params import KpiFilters

Period = tuple[dt.date, dt.date]


def account_scope(filters: KpiFilters) -> QuerySet | None:
    """Primary keys of the accounts the filters keep, as a subquery; None when nothing is filtered."""
    if filters.is_empty:
        return None
    return Account.objects.filter(filters.q()).values("pk")


# Dates (or windows) per grouped query: PostgreSQL allows 1664 result columns, and two aggregates go with each date.
DATES_PER_QUERY = 300


def _chunks(items: Sequence, size: int = DATES_PER_QUERY) -> list[Sequence]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [items]


def mrr_matrix(dates: Sequence[dt.date], scope: QuerySet | None) -> tuple[pd.DataFrame, pd.Series]:
    """MRR in cents per account (rows) at each date (columns), NaN where the account is not active at that date,
    and each account's first subscription start. One grouped query over the subscriptions per 300 dates.

    "Active at D" is `accounts.selectors.active_on_q(D)`; the MRR at D sums the subscriptions active at D, as
    `accounts.selectors.account_mrr_on` does for one date.
    """
    subs = Subscription.objects.filter(start_date__lte=max(dates))
    if scope is not None:
        subs = subs.filter(account__in=scope)
    matrices, firsts = [], []
    # Subscriptions priced in another currency count at each date's rate (accounts.rates.foreign_mrr_on).
    foreign = foreign_mrr_on(list(dates), scope=scope)
    for chunk in _chunks(list(dates)):
        aggregates: dict[str, object] = {"first": Min("start_date")}
        for i, day in enumerate(chunk):
            aggregates[f"mrr{i}"] = Sum("mrr", filter=active_on_q(day) & IN_REPORTING_CURRENCY)
            aggregates[f"n{i}"] = Count("id", filter=active_on_q(day))
        rows = list(subs.values("account_id").annotate(**aggregates).order_by())
        frame = pd.DataFrame(rows, columns=["account_id", *aggregates]).set_index("account_id")
        # MRR has two decimal places, so cents are exact integers; NaN where nothing is active.
        columns = {
            day: (
                (frame[f"mrr{i}"].astype(float).fillna(0) * 100).round()
                + pd.Series({k: int(v * 100) for k, v in foreign[day].items()}, dtype=float)
                .reindex(frame.index)
                .fillna(0)
            ).where(frame[f"n{i}"] > 0)
            for i, day in enumerate(chunk)
        }
        matrices.append(pd.DataFrame(columns, index=frame.index))
        firsts.append(frame["first"])
    if len(matrices) == 1:
        return matrices[0], firsts[0]
    # Every chunk groups the same subscriptions (started by the last date), so the accounts are the same.
    return pd.concat(matrices, axis=1), firsts[0]


def event_window_flags(windows: dict[str, tuple[dt.datetime, dt.datetime]], scope: QuerySet | None) -> pd.DataFrame:
    """Per account, whether it had a usage event in each window (low, high]: one aggregate per 300 windows.

    Returns a boolean frame indexed by account id with one column per window name (accounts with no event in any
    window are absent, and False where they have none in that window).
    """
    if not windows:
        return pd.DataFrame()
    frames = []
    for chunk in _chunks(list(windows.items())):
        low = min(lo for _, (lo, _) in chunk)
        high = max(hi for _, (_, hi) in chunk)
        events = UsageEvent.objects.filter(occurred_at__gt=low, occurred_at__lte=high)
        if scope is not None:
            events = events.filter(account__in=scope)
        counts = {f"w{i}": Count("id", filter=Q(occurred_at__gt=lo, occurred_at__lte=hi))
                  for i, (_, (lo, hi)) in enumerate(chunk)}  # fmt: skip
        rows = list(events.values("account_id").annotate(**counts).order_by().values_list("account_id", *counts))
        frames.append(
            pd.DataFrame(rows, columns=["account_id", *(name for name, _ in chunk)]).set_index("account_id") > 0
        )
    return frames[0] if len(frames) == 1 else pd.concat(frames, axis=1).fillna(False).astype(bool)


def survey_score_counts(
    *, kind: str, start: dt.date, end: dt.date, scope: QuerySet | None, dedupe: bool = False
) -> list[int]:
    """Responses of `kind` with responded_at in [start, end) (00:00 UTC), counted per score.

    With `dedupe`, only each contact's latest response in the period counts (responses without a contact
    always count).
    """
    low, high = instant(start), instant(end)
    responses = SurveyResponse.objects.filter(kind=kind, responded_at__gte=low, responded_at__lt=high)
    if scope is not None:
        responses = responses.filter(account__in=scope)
    if dedupe:
        later = SurveyResponse.objects.filter(
            kind=kind, contact=OuterRef("contact"), responded_at__gte=low, responded_at__lt=high
        ).filter(
            Q(responded_at__gt=OuterRef("responded_at"))
            | Q(responded_at=OuterRef("responded_at"), pk__gt=OuterRef("pk"))
        )
        responses = responses.filter(Q(contact__isnull=True) | ~Exists(later))
    by_score = dict(responses.values("score").annotate(n=Count("id")).order_by().values_list("score", "n"))
    scores: Sequence[int] = NPS_SCORES if kind == "nps" else CSAT_SCORES
    return [by_score.get(score, 0) for score in scores]


def subscription_frame(scope: QuerySet | None) -> pd.DataFrame:
    """All subscriptions (account, start, end) of the accounts in scope, for cohort arithmetic."""
    subs = Subscription.objects.all() if scope is None else Subscription.objects.filter(account__in=scope)
    rows = list(subs.order_by().values_list("account_id", "start_date", "end_date"))
    return pd.DataFrame(rows, columns=["account_id", "start_date", "end_date"])


def cohort_cell_counts(*, start: dt.date, end: dt.date, scope: QuerySet | None) -> list[dict]:
    """(cohort, k, n_active) for cohorts whose month starts in [month of start, end), observed at `end`."""
    activity = cohort_activity(subscription_frame(scope), cutoff=end, first_cohort=start.replace(day=1))
    if activity.empty:
        return []
    activity = activity[(activity["cohort"] >= start.replace(day=1)) & (activity["cohort"] < end)]
    cells = activity.groupby(["cohort", "k"], as_index=False)["active"].sum()
    return [{"cohort": row.cohort, "k": int(row.k), "n_active": int(row.active)} for row in cells.itertuples()]


def survey_month_counts(*, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Survey responses in [start, end) (00:00 UTC) per account, kind, score and month (month starts, UTC)."""
    rows = (
        SurveyResponse.objects.filter(responded_at__gte=instant(start), responded_at__lt=instant(end))
        .annotate(month=TruncMonth("responded_at", tzinfo=dt.UTC))
        .values("account_id", "kind", "score", "month")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("account_id", "kind", "score", "month", "n")
    )
    frame = pd.DataFrame(list(rows), columns=["account_id", "kind", "score", "month", "n"])
    frame["month"] = [m.date() if isinstance(m, dt.datetime) else m for m in frame["month"]]
    return frame
