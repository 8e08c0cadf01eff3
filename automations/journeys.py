"""Journeys and onboarding: apply milestones to accounts, detect reached and missed milestones, move stages.

Detection is set-based per milestone: one query finds the reach time of every unreached progress row, one bulk
update stores them. A missed milestone (past due, not reached) is what the `milestone_missed` rule condition
and the "Onboarding milestone missed" playbook react to.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Min, OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext

from accounts.models import Account, LifecycleStage, Segment, Subscription, Task, TaskPriority, TaskSource, UsageEvent
from accounts.services import accounts_set_lifecycle_stage_bulk, tasks_create_bulk
from automations import conf
from automations.models import AccountRole, Journey, Milestone, MilestoneProgress
from health.models import UsageDaily

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
    # One UPDATE (and one INSERT of audit entries) per target stage, whatever the number of accounts.
    moving: dict[str, list[int]] = {}
    current = Account.objects.filter(pk__in=list(staged), lifecycle_stage__in=FORWARD_STAGES)
    for pk, stage in current.values_list("pk", "lifecycle_stage").iterator(chunk_size=5000):
        new = staged[pk]
        if new in FORWARD_STAGES and FORWARD_STAGES.index(new) > FORWARD_STAGES.index(stage):
            moving.setdefault(new, []).append(pk)
    changes = sum(len(accounts_set_lifecycle_stage_bulk(account_ids=ids, stage=new)) for new, ids in moving.items())
    tasks = milestone_tasks_create(now=now)
    return {"reached": reached, "missed": missed, "stage_changes": changes, **tasks}


# --- Owner roles assign the work --------------------------------------------------------------------------------------


def _holders(rows: list[MilestoneProgress]) -> dict[tuple[int, str], object]:
    """The user holding each (account, owner role) of the rows, from the account team (one query)."""
    roles = {r.milestone.owner_role for r in rows}
    holders = AccountRole.objects.filter(
        account_id__in={r.account_id for r in rows}, role__in=roles, user__is_active=True
    ).select_related("user")
    return {(h.account_id, h.role): h.user for h in holders}


def _assign(progress: MilestoneProgress, holders: dict) -> tuple[object, str]:
    """(assignee, the sentence saying who and why) for a milestone's task, in the active language."""
    role, account = progress.milestone.owner_role, progress.account
    holder, names = holders.get((account.pk, role)), {"role": role}
    if holder is not None:
        return holder, gettext("Assigned to the %(role)s of the account.") % names
    if role.casefold() in ("csm", "owner", "account owner") and account.owner_id:
        return account.owner, gettext("Assigned to the account owner (%(role)s).") % names
    if account.owner_id:
        why = gettext("No %(role)s is assigned to this account: assigned to the account owner instead.")
        return account.owner, why % names
    return None, gettext("No %(role)s is assigned to this account and it has no owner: unassigned.") % names


def milestone_tasks_create(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Give the work of onboarding milestones to their owner role, set-based and once per milestone and account.

    A milestone due within MILESTONE_DUE_SOON_DAYS gets a reminder task; a missed one (in the last
    MILESTONE_MISSED_TASK_DAYS) a high-priority task due the next day. Each goes to the user holding the
    milestone's owner role for the account (the account team), else to the account owner, saying so.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    open_ = MilestoneProgress.objects.filter(reached_at__isnull=True).exclude(milestone__owner_role="")
    open_ = open_.select_related("milestone__journey", "account__owner").order_by("pk")
    soon_days = conf.get("MILESTONE_DUE_SOON_DAYS")
    due = (
        list(open_.filter(missed_at__isnull=True, due_task__isnull=True, due_at__gte=now,
                          due_at__lte=now + dt.timedelta(days=soon_days)))
        if soon_days
        else []
    )  # fmt: skip
    since = now - dt.timedelta(days=conf.get("MILESTONE_MISSED_TASK_DAYS"))
    missed = list(open_.filter(missed_task__isnull=True, missed_at__gte=since))
    holders = _holders(due + missed)

    def task(progress: MilestoneProgress, *, missed: bool) -> Task:
        m, account = progress.milestone, progress.account
        assignee, why = _assign(progress, holders)
        when = date_format(timezone.localdate(progress.due_at), "MONTH_DAY_FORMAT") if progress.due_at else "—"
        names = {"milestone": m.name, "journey": m.journey.name, "when": when, "role": m.owner_role}
        # The account shows beside the title wherever tasks are listed: the title does not repeat it.
        title = (
            gettext("Milestone missed: %(milestone)s") if missed else gettext("Milestone due %(when)s: %(milestone)s")
        )
        state = (
            gettext("Onboarding milestone “%(milestone)s” (%(journey)s) was due on %(when)s and is not reached.")
            if missed
            else gettext("Onboarding milestone “%(milestone)s” (%(journey)s) is due on %(when)s and is not reached.")
        )
        owner_role = gettext("Owner role: %(role)s.") % names
        return Task(
            account=account,
            assignee=assignee,
            title=(title % names)[:255],
            description=f"{state % names}\n{owner_role} {why}",
            due_date=today + dt.timedelta(days=1) if missed else timezone.localdate(progress.due_at),
            priority=TaskPriority.HIGH if missed else TaskPriority.NORMAL,
            source=TaskSource.JOURNEY,
        )  # fmt: skip

    with translation.override(settings.LANGUAGE_CODE):  # stored for the team, not the request's
        due_rows, missed_rows = [task(p, missed=False) for p in due], [task(p, missed=True) for p in missed]
    due_tasks, missed_tasks = tasks_create_bulk(tasks=due_rows), tasks_create_bulk(tasks=missed_rows)
    for progress, t in zip(due, due_tasks, strict=True):
        progress.due_task = t
    for progress, t in zip(missed, missed_tasks, strict=True):
        progress.missed_task = t
    MilestoneProgress.objects.bulk_update(due, ["due_task"], batch_size=1000)
    MilestoneProgress.objects.bulk_update(missed, ["missed_task"], batch_size=1000)
    return {"due_tasks": len(due_tasks), "missed_tasks": len(missed_tasks)}


def account_role_assign(*, account: Account, role: str, user: AbstractBaseUser | None) -> AccountRole | None:
    """Make `user` the holder of `role` for the account (None: nobody holds it any more)."""
    role = role.strip()[:64]
    if not role:
        raise ValueError(gettext("A role needs a name."))
    if user is None:
        AccountRole.objects.filter(account=account, role=role).delete()
        return None
    holder, _ = AccountRole.objects.update_or_create(account=account, role=role, defaults={"user": user})
    return holder


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


# --- Editing journeys -------------------------------------------------------------------------------------------------

MILESTONE_KINDS = ("event", "attribute", "active_users", "paid", "manual")


class JourneyInvalid(ValueError):
    """A journey or one of its milestones is not valid (shown in the editor)."""


def _number(value, *, where: str, name: str, whole: bool = False, minimum: float = 0):
    ok = not isinstance(value, bool) and isinstance(value, int if whole else int | float) and value >= minimum
    if not ok:
        message = (
            gettext("%(where)s: %(name)s must be a whole number of at least %(minimum)s.")
            if whole
            else gettext("%(where)s: %(name)s must be a number of at least %(minimum)s.")
        )
        raise JourneyInvalid(message % {"where": where, "name": name, "minimum": f"{minimum:g}"})
    return value


def milestone_condition_validate(*, where: str, condition: dict) -> dict:
    """A milestone's condition, checked: event (event_type, count, property + at_least), attribute (name,
    at_least), active_users (at_least), paid, manual."""
    kind = condition.get("type")
    if kind not in MILESTONE_KINDS:
        raise JourneyInvalid(
            gettext("%(where)s: the condition is one of %(kinds)s.")
            % {"where": where, "kinds": ", ".join(MILESTONE_KINDS)}
        )
    if kind == "event":
        if not str(condition.get("event_type", "")).strip():
            raise JourneyInvalid(
                gettext("%(where)s: an event condition needs event_type, e.g. event_type=campaign_sent.")
                % {"where": where}
            )
        if "count" in condition:
            _number(condition["count"], where=where, name="count", whole=True, minimum=1)
        if condition.get("property"):
            _number(condition.get("at_least"), where=where, name="at_least")
    elif kind == "attribute":
        if not str(condition.get("name", "")).strip():
            raise JourneyInvalid(
                gettext("%(where)s: a property threshold needs the property's name, e.g. name=subscribers.")
                % {"where": where}
            )
        _number(condition.get("at_least"), where=where, name="at_least")
    elif kind == "active_users":
        _number(condition.get("at_least"), where=where, name="at_least", whole=True, minimum=1)
    return condition


@transaction.atomic
def journey_save(
    *,
    key: str,
    name: str,
    milestones: list[dict],
    description: str = "",
    onboarding: bool = False,
    segment: str = "",
    journey: Journey | None = None,
) -> Journey:
    """Create or update a journey and its ordered milestones, all or nothing.

    Milestones are matched by key: an edited milestone keeps its accounts' progress; a milestone left out is
    deleted with its progress. Each milestone: key, name, condition, stage, owner_role, due_days, first_value.
    """
    if not milestones:
        raise JourneyInvalid(gettext("A journey needs at least one milestone."))
    if segment and segment not in Segment.values:
        raise JourneyInvalid(gettext("Unknown segment %(segment)r.") % {"segment": segment})
    if Journey.objects.filter(key=key).exclude(pk=journey.pk if journey else None).exists():
        raise JourneyInvalid(gettext("Another journey has the key %(key)r.") % {"key": key})
    rows, keys = [], set()
    for n, m in enumerate(milestones, start=1):
        where = gettext("Milestone %(n)s") % {"n": n}
        if not str(m.get("name", "")).strip():
            raise JourneyInvalid(gettext("%(where)s: a milestone needs a name.") % {"where": where})
        mkey = slugify(m.get("key") or m["name"])[:100]
        if not mkey or mkey in keys:
            raise JourneyInvalid(
                gettext("%(where)s: its key %(key)r is empty or used twice.") % {"where": where, "key": mkey}
            )
        keys.add(mkey)
        if m.get("stage") and m["stage"] not in LifecycleStage.values:
            raise JourneyInvalid(
                gettext("%(where)s: unknown lifecycle stage %(stage)r.") % {"where": where, "stage": m["stage"]}
            )
        due = m.get("due_days")
        if due is not None:
            _number(due, where=where, name="due_days", whole=True)
        condition = milestone_condition_validate(where=where, condition=dict(m.get("condition") or {}))
        rows.append({"key": mkey, "name": str(m["name"]).strip()[:200], "order": n, "condition": condition,
                     "stage": m.get("stage") or "", "owner_role": str(m.get("owner_role") or "").strip()[:64],
                     "due_days": due, "first_value": bool(m.get("first_value"))})  # fmt: skip
    journey = journey or Journey()
    journey.key, journey.name, journey.description = key, name, description
    journey.onboarding, journey.segment = onboarding, segment
    try:
        journey.full_clean()
    except ValidationError as exc:
        raise JourneyInvalid("; ".join(exc.messages)) from exc
    journey.save()
    existing = {m.key: m for m in journey.milestones.all()}
    journey.milestones.exclude(key__in=keys).delete()
    for row in rows:
        milestone = existing.get(row["key"]) or Milestone(journey=journey)
        due_changed = milestone.pk is not None and milestone.due_days != row["due_days"]
        for field, value in row.items():
            setattr(milestone, field, value)
        milestone.save()
        if due_changed:  # open progress follows the new due offset
            open_ = MilestoneProgress.objects.filter(
                milestone=milestone, reached_at__isnull=True, missed_at__isnull=True
            )
            if milestone.due_days is None:
                open_.update(due_at=None)
            else:
                offset = ExpressionWrapper(
                    F("started_at") + dt.timedelta(days=milestone.due_days), output_field=DateTimeField()
                )
                open_.update(due_at=offset)
    return journey
