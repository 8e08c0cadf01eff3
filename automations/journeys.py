"""Journeys and onboarding: apply milestones to accounts, detect reached and missed milestones, move stages.

Detection is set-based per milestone: one query finds the reach time of every unreached progress row, one bulk
update stores them. A missed milestone (past due, not reached) is what the `milestone_missed` rule condition
and the "Onboarding milestone missed" playbook react to.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone

from accounts.models import Account, Subscription, UsageEvent
from automations.models import Journey, Milestone, MilestoneProgress

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

ONBOARDING_WINDOW_DAYS = 90  # onboarding templates apply to accounts younger than this
FORWARD_STAGES = ["trial", "onboarding", "adopted", "renewal", "advocate"]


def journey_apply(*, journey: Journey, now: dt.datetime | None = None) -> int:
    """Create progress rows for the accounts the journey applies to (idempotent). Returns rows created."""
    now = now or timezone.now()
    accounts = Account.objects.all()
    if journey.onboarding:
        accounts = accounts.filter(created_at__gte=now - dt.timedelta(days=ONBOARDING_WINDOW_DAYS))
    if journey.segment:
        accounts = accounts.filter(segment=journey.segment)
    milestones = list(journey.milestones.all())
    existing = set(
        MilestoneProgress.objects.filter(milestone__journey=journey).values_list("account_id", "milestone_id")
    )
    rows = [
        MilestoneProgress(
            account_id=pk,
            milestone=m,
            started_at=created,
            due_at=created + dt.timedelta(days=m.due_days) if m.due_days is not None else None,
        )
        for pk, created in accounts.values_list("pk", "created_at").iterator(chunk_size=5000)
        for m in milestones
        if (pk, m.pk) not in existing
    ]
    MilestoneProgress.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def _as_datetime(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)


def _reach_times(milestone: Milestone, pending, now: dt.datetime):
    """(progress id, reached value) for pending rows whose milestone condition holds."""
    cond = milestone.condition or {}
    kind = cond.get("type", "manual")
    account = OuterRef("account_id")
    if kind == "event":
        count = max(int(cond.get("count", 1)), 1)
        events = UsageEvent.objects.filter(event_type=cond["event_type"])
        if cond.get("property"):
            events = events.filter(**{f"properties__{cond['property']}__gte": cond.get("at_least", 0)})
        if count == 1:
            # One grouped query over the event type (a per-row "first event" subquery makes PostgreSQL walk the
            # (event_type, occurred_at) index across all accounts for each row).
            progress_of = dict(pending.values_list("account_id", "pk"))
            firsts = (
                events.filter(account_id__in=pending.values("account_id"))
                .values("account_id")
                .annotate(first=Min("occurred_at"))
                .values_list("account_id", "first")
            )
            return [(progress_of[account_id], first) for account_id, first in firsts]
        value = Subquery(
            events.filter(account=account).order_by("occurred_at").values("occurred_at")[count - 1 : count]
        )
    elif kind == "paid":
        value = Subquery(
            Subscription.objects.filter(account=account, mrr__gt=0)
            .order_by()
            .values("account")
            .annotate(first=Min("start_date"))
            .values("first")[:1]
        )
    elif kind == "active_users":
        from health.models import UsageDaily

        value = Subquery(
            UsageDaily.objects.filter(account=account, active_users__gte=int(cond.get("at_least", 1)))
            .order_by("day")
            .values("day")[:1]
        )
    elif kind == "attribute":
        hit = Account.objects.filter(pk=account, **{f"custom_attributes__{cond['name']}__gte": cond.get("at_least", 0)})
        value = Subquery(hit.values("pk")[:1])
    else:  # manual
        return []
    rows = pending.annotate(reached=value).filter(reached__isnull=False).values_list("pk", "reached")
    if kind == "attribute":
        return [(pk, now) for pk, _ in rows]
    return [(pk, _as_datetime(v)) for pk, v in rows]


@transaction.atomic
def milestones_detect(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Mark reached milestones (with their time), then missed ones; move lifecycle stages. Set-based per milestone."""
    from accounts.services import account_set_lifecycle_stage

    now = now or timezone.now()
    reached = 0
    staged: dict[int, str] = {}
    for milestone in Milestone.objects.select_related("journey").order_by("journey", "order"):
        pending = MilestoneProgress.objects.filter(milestone=milestone, reached_at__isnull=True)
        found = _reach_times(milestone, pending, now)
        objs = [MilestoneProgress(pk=pk, reached_at=min(when, now)) for pk, when in found]
        MilestoneProgress.objects.bulk_update(objs, ["reached_at"], batch_size=2000)
        reached += len(objs)
        if milestone.stage and objs:
            for account_id in MilestoneProgress.objects.filter(pk__in=[o.pk for o in objs]).values_list(
                "account_id", flat=True
            ):
                staged[account_id] = milestone.stage
    missed = MilestoneProgress.objects.filter(reached_at__isnull=True, missed_at__isnull=True, due_at__lt=now).update(
        missed_at=now
    )
    # Stages only move forward along the journey, and never for accounts at risk or churned (rules own those).
    changes = 0
    for account in Account.objects.filter(pk__in=staged, lifecycle_stage__in=FORWARD_STAGES):
        new = staged[account.pk]
        if new in FORWARD_STAGES and FORWARD_STAGES.index(new) > FORWARD_STAGES.index(account.lifecycle_stage):
            account_set_lifecycle_stage(account=account, stage=new, actor=None)
            changes += 1
    return {"reached": reached, "missed": missed, "stage_changes": changes}


def milestone_reach(*, progress: MilestoneProgress, actor: AbstractBaseUser | None) -> MilestoneProgress:
    """Mark a milestone reached by hand."""
    if progress.reached_at is None:
        progress.reached_at = timezone.now()
        progress.reached_manually_by = actor
        progress.save(update_fields=["reached_at", "reached_manually_by"])
    return progress


def journeys_refresh(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Periodic: apply every journey to its accounts, then detect reached and missed milestones."""
    created = sum(journey_apply(journey=j, now=now) for j in Journey.objects.all())
    if created and connection.vendor == "postgresql":
        # Fresh statistics: with stale ones the planner expects one pending row and picks a nested loop over the
        # events index per account (minutes instead of a second on the simulator's data).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE automations_milestoneprogress")
    return {"applied": created, **milestones_detect(now=now)}


def days_between(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 86400
