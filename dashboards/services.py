"""Writes of the dashboards app: managers' goals and CAC entries (permission checks here), and the KPI facts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Task, TaskStatus
from automations import selectors as automations
from churnapp.roles import can_configure
from dashboards.kpis.kpi_facts import (
    account_snapshot_rows,
    cohort_fact_rows,
    lifetime_fact_rows,
    onboarding_fact_rows,
    period_fact_rows,
    survey_cumulative,
    task_load_rows,
)
from dashboards.kpis.metrics import CSAT_SCORES, NPS_SCORES
from dashboards.kpis.periods import add_months, instant, month_start, month_starts, months_between
from dashboards.models import (
    AccountSnapshotFact,
    AcquisitionCost,
    BandMovementFact,
    CohortFact,
    EngagementFact,
    FactRunStatus,
    Goal,
    KpiFactRun,
    LifetimeFact,
    OnboardingFact,
    PeriodFact,
    TaskLoadFact,
)
from dashboards.params import KpiFilters
from dashboards.selectors import lifecycle, live
from dashboards.selectors.kpi_facts import FACT_WINDOWS
from health import selectors as health

DEFAULT_FACT_MONTHS = 24

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def _ensure_manager(actor: AbstractBaseUser | None) -> None:
    # `actor=None` is the system (commands, fixtures).
    if actor is not None and not can_configure(actor):
        raise PermissionDenied("Only managers and admins set goals and CAC.")


def goal_create(
    *,
    actor: AbstractBaseUser | None,
    metric: str,
    comparator: str,
    target: Decimal,
    year: int,
    quarter: int,
    segment: str = "",
) -> Goal:
    """A quarterly target; one per metric, quarter and segment (a second one replaces the first)."""
    _ensure_manager(actor)
    goal, _ = Goal.objects.update_or_create(
        metric=metric,
        year=year,
        quarter=quarter,
        segment=segment,
        defaults={"comparator": comparator, "target": target, "created_by": actor, "created_at": timezone.now()},
    )
    return goal


def goal_delete(*, actor: AbstractBaseUser | None, goal: Goal) -> None:
    _ensure_manager(actor)
    goal.delete()


def acquisition_cost_set(
    *, actor: AbstractBaseUser | None, month: dt.date, amount: Decimal, segment: str = ""
) -> AcquisitionCost:
    """Enter (or correct) the CAC of a month, for all segments or one."""
    _ensure_manager(actor)
    if amount < 0:
        raise ValidationError({"amount": "CAC cannot be negative."})
    entry, _ = AcquisitionCost.objects.update_or_create(
        month=month_start(month),
        segment=segment,
        defaults={"amount": amount, "updated_by": actor, "updated_at": timezone.now()},
    )
    return entry


def acquisition_cost_delete(*, actor: AbstractBaseUser | None, entry: AcquisitionCost) -> None:
    _ensure_manager(actor)
    entry.delete()


def kpi_facts_refresh(*, today: dt.date | None = None, months: int = DEFAULT_FACT_MONTHS) -> KpiFactRun:
    """Rebuild the KPI facts: sums for every pair of the last `months` + 1 month starts, per segment × plan.

    Idempotent and set-based: one grouped query over subscriptions, one over the events of the horizon, one over
    survey responses and one over accounts, then numpy; the old facts are replaced in one transaction, so readers
    see either the previous run or this one. A failed run is recorded as failed and leaves the facts as they were.
    """
    today = today or timezone.localdate()
    last_month = month_start(today)
    first_month = add_months(last_month, -months)
    run = KpiFactRun.objects.create(first_month=first_month, last_month=last_month)
    try:
        with transaction.atomic():
            counts = _facts_write(starts=month_starts(first_month, last_month), today=today)
    except Exception as exc:
        KpiFactRun.objects.filter(pk=run.pk).update(
            status=FactRunStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    KpiFactRun.objects.filter(pk=run.pk).update(status=FactRunStatus.COMPLETE, finished_at=timezone.now(), **counts)
    # Keep a short history of runs.
    old = KpiFactRun.objects.order_by("-started_at").values_list("pk", flat=True)[100:]
    KpiFactRun.objects.filter(pk__in=list(old)).delete()
    run.refresh_from_db()
    return run


def _facts_write(*, starts: list[dt.date], today: dt.date) -> dict[str, int]:
    columns = ["pk", "segment", "plan", "owner_id", "health_band", "status", "mrr"]
    accounts = pd.DataFrame(list(Account.objects.values_list(*columns)), columns=columns)
    keys = list(zip(accounts["segment"], accounts["plan"], strict=True))
    groups = sorted(set(keys))
    index = {group: i for i, group in enumerate(groups)}
    group_of = pd.Series([index[key] for key in keys], index=accounts["pk"], dtype="int64")
    n_groups = len(groups)

    matrix, firsts = live.mrr_matrix(starts, scope=None)
    windows = {f"{name}|{i}": window.bounds(day) for name, window in FACT_WINDOWS.items()
               for i, day in enumerate(starts)}  # fmt: skip
    flags = live.event_window_flags(windows, scope=None)
    activity = {
        name: pd.DataFrame(
            {day: flags[f"{name}|{i}"] for i, day in enumerate(starts)} if not flags.empty else {},
            index=flags.index,
        )
        for name in FACT_WINDOWS
    }
    responses = live.survey_month_counts(start=starts[0], end=starts[-1])
    surveys = {
        kind: survey_cumulative(responses[responses["kind"] == kind], month_starts=starts, group_of=group_of,
                                n_groups=n_groups, scores=scores)
        for kind, scores in (("nps", NPS_SCORES), ("csat", CSAT_SCORES))
    }  # fmt: skip

    PeriodFact.objects.all().delete()
    CohortFact.objects.all().delete()
    AccountSnapshotFact.objects.all().delete()
    AccountSnapshotFact.objects.bulk_create(
        (AccountSnapshotFact(**row) for row in account_snapshot_rows(accounts)), batch_size=2000
    )
    task_columns = ["account__segment", "account__plan", "assignee_id", "due_date"]
    tasks = pd.DataFrame(
        list(Task.objects.filter(status=TaskStatus.OPEN).values_list(*task_columns)),
        columns=["segment", "plan", "assignee_id", "due_date"],
    )
    TaskLoadFact.objects.all().delete()
    TaskLoadFact.objects.bulk_create(
        (TaskLoadFact(**row) for row in task_load_rows(tasks, today=today)), batch_size=2000
    )
    period_rows = 0
    rows = period_fact_rows(month_starts=starts, matrix=matrix, firsts=firsts, activity=activity,
                            surveys=surveys, group_of=group_of, n_groups=n_groups)  # fmt: skip
    facts = (
        PeriodFact(start=start, end=end, months=months_between(start, end), segment=groups[group][0],
                   plan=groups[group][1], **sums)
        for start, end, group, sums in rows
    )  # fmt: skip
    while batch := list(islice(facts, 2000)):
        PeriodFact.objects.bulk_create(batch)
        period_rows += len(batch)

    cells = cohort_fact_rows(live.subscription_frame(scope=None), first_month=starts[0],
                             cutoff=starts[-1], group_of=group_of)  # fmt: skip
    CohortFact.objects.bulk_create(
        (CohortFact(cohort=row.cohort, k=row.k, segment=groups[row.group][0], plan=groups[row.group][1],
                    n_active=row.n_active) for row in cells.itertuples()),
        batch_size=2000,
    )  # fmt: skip
    lifecycle_rows = _lifecycle_facts_write(starts=starts, group_of=group_of, groups=groups)
    return {"accounts": len(accounts), "period_rows": period_rows, "cohort_rows": len(cells),
            "lifecycle_rows": lifecycle_rows}  # fmt: skip


def _lifecycle_facts_write(*, starts: list[dt.date], group_of: pd.Series, groups: list[tuple[str, str]]) -> int:
    """Lifetimes and band movement up to the last month start; engagement per month start; onboarding per signup
    month. The same reads the live path makes (`dashboards.selectors.lifecycle`), grouped by segment × plan."""
    first, last = starts[0], starts[-1]
    for model in (LifetimeFact, BandMovementFact, EngagementFact, OnboardingFact):
        model.objects.all().delete()

    lifetimes = lifetime_fact_rows(lifecycle.account_lifetimes(start=first, end=last, filters=KpiFilters()),
                                   group_of=group_of)  # fmt: skip
    written = len(LifetimeFact.objects.bulk_create(
        (LifetimeFact(cohort=row.cohort, segment=groups[row.group][0], plan=groups[row.group][1],
                      duration=row.duration, churned=row.churned, n=row.n) for row in lifetimes.itertuples()),
        batch_size=5000,
    ))  # fmt: skip

    moves: dict[tuple[dt.date, dt.date], list[dict]] = {}
    for start in starts[:-1]:
        from_day, to_day = health.snapshot_day_bounds(start=start, end=last)
        if from_day is None or from_day == to_day:
            continue
        if (from_day, to_day) not in moves:
            moves[(from_day, to_day)] = health.band_transitions(start_day=from_day, end_day=to_day, by_group=True)
        pairs = moves[(from_day, to_day)]
        written += len(BandMovementFact.objects.bulk_create(
            (BandMovementFact(start=start, from_day=from_day, to_day=to_day, **row) for row in pairs),
            batch_size=5000,
        ))  # fmt: skip

    engagement: dict[dt.date, list[dict]] = {}
    for end in starts[1:]:
        day = health.metrics_day_on_or_before(day=end - dt.timedelta(days=1))
        if day is None:
            continue
        if day not in engagement:
            engagement[day] = health.active_days_by_group(day=day)
        written += len(EngagementFact.objects.bulk_create(
            (EngagementFact(end=end, day=day, **row) for row in engagement[day]), batch_size=5000
        ))  # fmt: skip

    progress = automations.onboarding_progress_frame()
    if not progress.empty:
        progress = progress[pd.to_datetime(progress["created_at"], utc=True) >= instant(first)]
    written += len(OnboardingFact.objects.bulk_create(
        (OnboardingFact(**row) for row in onboarding_fact_rows(progress)), batch_size=5000
    ))  # fmt: skip
    return written
