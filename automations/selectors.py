"""Reads of the automations app: rules and their executions, playbooks and enrolments, journeys."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import TYPE_CHECKING

import pandas as pd
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth

from automations.models import (
    AccountRole,
    Enrolment,
    EnrolmentStatus,
    Journey,
    Milestone,
    MilestoneProgress,
    Playbook,
    Rule,
    RuleExecution,
)
from health.models import HealthSnapshot

if TYPE_CHECKING:
    pass

# --- Rules, playbooks, journeys --------------------------------------------------------------------------------------


def rule_list() -> QuerySet:
    return Rule.objects.annotate(
        n_executions=Count("executions"),
        n_failed=Count("executions", filter=Q(executions__status__in=["failed", "partial"])),
    ).order_by("name")


def rule_executions(*, rule) -> QuerySet:
    """A rule's executions, newest first, with what the execution log shows (paginate it): with when the health
    score the rule read had been computed (the account's latest scoring before the execution)."""
    scored = HealthSnapshot.objects.filter(account=OuterRef("account_id"), scored_at__lte=OuterRef("created_at"))
    return (
        RuleExecution.objects.filter(rule=rule)
        .annotate(health_scored_at=Subquery(scored.order_by("-day").values("scored_at")[:1]))
        .select_related("account", "task")
        .prefetch_related("action_runs")
        .order_by("-created_at", "-id")
    )


def account_enrolments(*, account_id: int) -> list:
    return list(
        Enrolment.objects.filter(account_id=account_id)
        .select_related("playbook")
        .prefetch_related("playbook__steps", "step_runs")
        .order_by("-enrolled_at", "-id")[:20]
    )


def active_enrolments(*, limit: int = 500) -> list:
    return list(
        Enrolment.objects.filter(status=EnrolmentStatus.ACTIVE)
        .select_related("playbook", "account", "account__owner")
        .order_by("next_run_at", "pk")[:limit]
    )


def playbook_list() -> QuerySet:
    return Playbook.objects.annotate(
        n_steps=Count("steps", distinct=True),
        n_active=Count("enrolments", filter=Q(enrolments__status="active"), distinct=True),
        n_holdout=Count("enrolments", filter=Q(enrolments__holdout=True), distinct=True),
        n_total=Count("enrolments", distinct=True),
    ).order_by("name")


def account_milestones(*, account_id: int) -> list:
    return list(
        MilestoneProgress.objects.filter(account_id=account_id)
        .select_related("milestone", "milestone__journey")
        .order_by("milestone__journey__name", "milestone__order")
    )


def journey_cohorts(*, journey) -> list[str]:
    months = (
        MilestoneProgress.objects.filter(milestone__journey=journey)
        .annotate(month=TruncMonth("account__created_at"))
        .values_list("month", flat=True)
        .distinct()
        .order_by("month")
    )
    return [f"{m:%Y-%m}" for m in months if m]


def _median_days_to_reach(progress: QuerySet) -> dict[int, float]:
    """Per milestone id, the median of the whole days from start to reaching it (negative spans count as 0; the
    median of an even count is the mean of the two middle values), in the database on PostgreSQL
    (percentile_cont), else from the reached rows' spans."""
    reached = progress.filter(reached_at__isnull=False)
    if connection.vendor == "postgresql":
        sql, params = reached.values("milestone_id", "started_at", "reached_at").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.milestone_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY "
                "FLOOR(GREATEST(EXTRACT(EPOCH FROM (r.reached_at - r.started_at)), 0) / 86400)) "
                f"FROM ({sql}) r GROUP BY r.milestone_id",
                params,
            )
            return {mid: float(days) for mid, days in cursor.fetchall()}
    spans: dict[int, list[int]] = {}
    for mid, started, done in reached.values_list("milestone_id", "started_at", "reached_at").iterator(10000):
        spans.setdefault(mid, []).append(whole_days(started, done))
    return {mid: float(statistics.median(days)) for mid, days in spans.items()}


def whole_days(started: dt.datetime, reached: dt.datetime) -> int:
    """Whole days from `started` to `reached` (0 when reached before it started): the funnel's time unit."""
    return max(int((reached - started).total_seconds() // 86400), 0)


def reached_or_later() -> Exists:
    """For a MilestoneProgress row: True when its account reached this milestone or a later one of the journey.

    The funnel counts "reached step k" this way, so it never rises from one step to the next: an account that
    reached a later milestone without this one being marked (skipped, or reached before tracking began) has
    passed it. One definition for the journey page, the dashboard's onboarding funnel and its drill-downs."""
    return Exists(
        MilestoneProgress.objects.filter(
            account_id=OuterRef("account_id"),
            milestone__journey_id=OuterRef("milestone__journey_id"),
            milestone__order__gte=OuterRef("milestone__order"),
            reached_at__isnull=False,
        )
    )


def journey_funnel(*, journey, segment: str = "", cohort: str = "", accounts: QuerySet | None = None) -> dict:
    """Share of accounts reaching each milestone, median days to reach it, missed counts, where they stall and
    the median time to first value — per signup cohort (YYYY-MM) and segment, or for `accounts` (a subquery of
    account ids). Counted in the database (a few grouped queries, whatever the number of accounts)."""
    qs = MilestoneProgress.objects.filter(milestone__journey=journey)
    if accounts is not None:
        qs = qs.filter(account__in=accounts)
    if segment:
        qs = qs.filter(account__segment=segment)
    if cohort:
        year, month = (int(x) for x in cohort.split("-"))
        qs = qs.filter(account__created_at__year=year, account__created_at__month=month)
    counts = {
        row["milestone_id"]: row
        for row in qs.annotate(done=reached_or_later())
        .values("milestone_id")
        .annotate(
            reached=Count("id", filter=Q(done=True)),
            missed=Count("id", filter=Q(done=False, missed_at__isnull=False)),
        )
        .order_by()
    }
    return funnel_summary(
        milestones=list(journey.milestones.order_by("order")),
        counts=counts,
        medians=_median_days_to_reach(qs),
        n=qs.values("account_id").distinct().count(),
    )


def funnel_summary(*, milestones: list, counts: dict[int, dict], medians: dict[int, float], n: int) -> dict:
    """The funnel of `journey_funnel` from its counts: per milestone id `counts` (reached, missed) and `medians`
    (days to reach), `n` accounts on the journey. Also what the dashboards' onboarding facts add up to."""
    steps, previous, stall, ttfv = [], 1.0, None, None
    for m in milestones:
        bucket = counts.get(m.pk, {"reached": 0, "missed": 0})
        share = bucket["reached"] / n if n else 0.0
        median = medians.get(m.pk)
        drop = previous - share
        steps.append(
            {"milestone": m, "reached": bucket["reached"], "missed": bucket["missed"], "share": share,
             "median_days": median, "drop": drop}
        )  # fmt: skip
        if n and (stall is None or drop > stall["drop"]):
            stall = steps[-1]
        previous = share
        if m.first_value and ttfv is None:
            ttfv = median
    return {"accounts": n, "steps": steps, "stall": stall, "time_to_first_value": ttfv}


def onboarding_progress_frame():
    """Progress on the onboarding journeys' milestones, one row per account and milestone, for the dashboards'
    facts: journey_id, milestone_id, account_id, created_at (the account's), segment, plan, days (whole days to
    reach it; NaN while not reached itself), reached (it or a later milestone), missed (not reached and past due).
    A pandas DataFrame."""
    columns = ["milestone__journey_id", "milestone_id", "account_id", "account__created_at", "account__segment",
               "account__plan", "started_at", "reached_at", "missed_at", "done"]  # fmt: skip
    rows = (
        MilestoneProgress.objects.filter(milestone__journey__onboarding=True)
        .annotate(done=reached_or_later())
        .values_list(*columns)
    )
    frame = pd.DataFrame(list(rows.iterator(20000)), columns=columns)
    names = ["journey_id", "milestone_id", "account_id", "created_at", "segment", "plan"]
    out = frame.iloc[:, :6].set_axis(names, axis=1)
    reached = pd.to_datetime(frame["reached_at"], utc=True)
    spans = (reached - pd.to_datetime(frame["started_at"], utc=True)).dt.total_seconds() // 86400
    out["days"] = spans.clip(lower=0)
    out["reached"] = frame["done"].astype(bool)  # this milestone or a later one (`reached_or_later`)
    out["missed"] = ~out["reached"] & frame["missed_at"].notna()
    return out


def journey_list() -> QuerySet:
    """Every journey with its milestones, by name (the journeys page)."""
    return Journey.objects.prefetch_related("milestones").order_by("name")


def onboarding_journeys() -> QuerySet:
    """The onboarding journeys (templates applied to new accounts), by name."""
    return Journey.objects.filter(onboarding=True).order_by("name", "pk")


def milestone_accounts(*, milestone, reached: bool, accounts: QuerySet | None = None) -> QuerySet:
    """Ids of the accounts on `milestone` that reached it (or, with reached=False, have not reached it)."""
    qs = MilestoneProgress.objects.filter(milestone=milestone).annotate(done=reached_or_later()).filter(done=reached)
    if accounts is not None:
        qs = qs.filter(account__in=accounts)
    return qs.values_list("account_id", flat=True)


def account_team(*, account_id: int) -> list:
    """Who holds which working role for the account (milestone tasks go to them)."""
    return list(AccountRole.objects.filter(account_id=account_id).select_related("user").order_by("role"))


def owner_roles_in_use() -> list[str]:
    """The owner roles that milestones and playbooks name (suggestions for the account team)."""
    roles = set(Milestone.objects.exclude(owner_role="").values_list("owner_role", flat=True))
    roles |= set(Playbook.objects.exclude(owner_role="").values_list("owner_role", flat=True))
    return sorted(roles)
