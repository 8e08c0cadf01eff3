"""Writes of the accounts domain. Views, API, tasks and commands call these; nothing else writes accounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import (
    Account,
    AccountStatus,
    Activity,
    ActivityKind,
    SavedView,
    Subscription,
    Task,
    TaskPriority,
    TaskSource,
    TaskStatus,
)
from accounts.selectors import active_on_q, next_renewal_dates
from churnapp import derived
from churnapp.queries import filter_ids
from churnapp.roles import can_edit_account

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def _ensure_can_edit(user: AbstractBaseUser | None, account: Account) -> None:
    # `user=None` is the system (rules, imports, workers), which may edit any account.
    if user is not None and not can_edit_account(user, account):
        raise PermissionDenied("You can only edit the accounts you own.")


def activity_ensure_editable(*, activity: Activity, actor: AbstractBaseUser | None, delete: bool = False) -> None:
    """Audit entries (kind "change") are written by the system only and never edited or deleted. Any other entry
    is edited only by its author, so its byline stays true (an entry without author, e.g. synced by an
    integration, by whoever may edit the account — an API key included); deleting one follows the role's
    permissions (managers, admins, write keys)."""
    if activity.kind == ActivityKind.CHANGE:
        raise PermissionDenied("Audit entries (changes) cannot be edited or deleted.")
    if delete:
        return
    if activity.author_id is not None and (actor is None or actor.pk != activity.author_id):
        raise PermissionDenied("Only the author can edit this activity.")
    _ensure_can_edit(actor, activity.account)


def _change_entry(*, account: Account, actor: AbstractBaseUser | None, field: str, old: str, new: str) -> Activity:
    return Activity(
        account=account,
        kind=ActivityKind.CHANGE,
        author=actor,
        subject=f"{field.replace('_', ' ').capitalize()} changed from {old or '—'} to {new or '—'}",
        details={"field": field, "old": old, "new": new},
    )


@transaction.atomic
def account_set_status(*, account: Account, status: str, actor: AbstractBaseUser | None) -> Account:
    """Change an account's status, with an audit entry on its timeline."""
    _ensure_can_edit(actor, account)
    if status not in AccountStatus.values:
        raise ValueError(f"Unknown status {status!r}.")
    if account.status != status:
        old, old_value = account.get_status_display(), account.status
        account.status = status
        account.save(update_fields=["status", "updated_at"])
        _change_entry(account=account, actor=actor, field="status", old=old, new=account.get_status_display()).save()
        derived.notify(
            derived.ACCOUNT_STATUS_CHANGED,
            [{"account_id": account.pk, "external_id": account.external_id, "old": old_value, "new": status}],
        )
    return account


@transaction.atomic
def account_assign_owner(
    *, accounts: list[Account], owner: AbstractBaseUser | None, actor: AbstractBaseUser | None
) -> int:
    """Give accounts a new owner (one audit entry per account that changes). Returns how many changed.

    Any account the actor may not edit refuses the whole batch: nothing changes.
    """
    for account in accounts:
        _ensure_can_edit(actor, account)
    changed = [a for a in accounts if a.owner_id != (owner.pk if owner else None)]
    if not changed:
        return 0
    entries = [
        _change_entry(
            account=a,
            actor=actor,
            field="owner",
            old=a.owner.get_full_name() or a.owner.get_username() if a.owner else "",
            new=(owner.get_full_name() or owner.get_username()) if owner else "",
        )
        for a in changed
    ]
    Account.objects.filter(pk__in=[a.pk for a in changed]).update(owner=owner, updated_at=timezone.now())
    Activity.objects.bulk_create(entries)
    return len(changed)


def activity_create(
    *,
    account: Account,
    author: AbstractBaseUser | None,
    kind: str = ActivityKind.NOTE,
    subject: str = "",
    body: str,
    occurred_at: dt.datetime | None = None,
) -> Activity:
    """Log a note, call, email or meeting on the account timeline."""
    _ensure_can_edit(author, account)
    return Activity.objects.create(
        account=account,
        author=author,
        kind=kind,
        subject=subject,
        body=body,
        occurred_at=occurred_at or timezone.now(),
    )


def task_create(
    *,
    account: Account,
    title: str,
    created_by: AbstractBaseUser | None,
    assignee: AbstractBaseUser | None = None,
    due_date: dt.date | None = None,
    priority: str = TaskPriority.NORMAL,
    description: str = "",
    source: str = TaskSource.MANUAL,
) -> Task:
    """Create a task on an account; unassigned tasks go to the account owner."""
    _ensure_can_edit(created_by, account)
    task = Task.objects.create(
        account=account,
        title=title,
        description=description,
        assignee=assignee or account.owner,
        due_date=due_date,
        priority=priority,
        source=source,
        created_by=created_by,
    )
    derived.notify(derived.TASK_CREATED, [task_webhook_payload(task)])
    return task


def task_webhook_payload(task: Task) -> dict:
    """What outgoing `task.created` webhooks carry."""
    return {
        "task_id": task.pk,
        "account_id": task.account_id,
        "title": task.title,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "priority": task.priority,
        "source": task.source,
    }


def task_complete(*, task: Task, actor: AbstractBaseUser | None, outcome: str = "") -> Task:
    """Mark a task done with its outcome. The assignee may always complete their own task."""
    if actor is not None and task.assignee_id != actor.pk:
        _ensure_can_edit(actor, task.account)
    if task.status == TaskStatus.OPEN:
        task.status = TaskStatus.DONE
        task.outcome = outcome
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "outcome", "completed_at"])
    return task


def saved_view_create(*, owner: AbstractBaseUser, name: str, query: str, shared: bool) -> SavedView:
    """Save (or overwrite) one of the user's accounts-list views. Viewers change nothing, not even views."""
    if not owner.has_perms(["accounts.add_savedview", "accounts.change_savedview"]):
        raise PermissionDenied("Viewers cannot save views.")
    view, _ = SavedView.objects.update_or_create(
        owner=owner, name=name, defaults={"query": query.lstrip("?"), "shared": shared}
    )
    return view


def saved_view_delete(*, view: SavedView, actor: AbstractBaseUser) -> None:
    """The owner (unless a viewer) or anyone allowed to delete views (managers, admins) deletes a view."""
    own = view.owner_id == actor.pk and actor.has_perm("accounts.change_savedview")
    if not own and not actor.has_perm("accounts.delete_savedview"):
        raise PermissionDenied("Only the owner can delete this view (viewers change nothing).")
    view.delete()


def _renewal_dates_write(*, today: dt.date) -> None:
    """Cache each active account's next renewal (selectors.next_renewal_dates); accounts without an active
    subscription keep the date they had (the renewal they missed), as before."""
    renewals = next_renewal_dates(day=today)
    changed = [
        Account(pk=pk, renewal_date=renewals[pk])
        for pk, current in Account.objects.values_list("pk", "renewal_date").iterator(chunk_size=5000)
        if pk in renewals and current != renewals[pk]
    ]
    Account.objects.bulk_update(changed, ["renewal_date"], batch_size=1000)


@transaction.atomic
def account_refresh_snapshots(*, today: dt.date | None = None) -> dict[str, int]:
    """Recompute every account's cached MRR, seats, renewal date and subscription-driven status, set-based.

    Status follows the facts: an account whose subscriptions have all ended becomes churned; a churned
    account with an active subscription again becomes won back. Each status change is audited.
    """
    today = today or timezone.localdate()
    active = Subscription.objects.filter(active_on_q(today), account=OuterRef("pk")).order_by().values("account")
    mrr = active.annotate(total=Sum("mrr")).values("total")
    seats = active.filter(units="seats").annotate(total=Sum("quantity")).values("total")
    updated = Account.objects.update(
        mrr=Coalesce(Subquery(mrr), Value(Decimal("0"))),
        seats=Coalesce(Subquery(seats, output_field=IntegerField()), Value(0)),
    )
    _renewal_dates_write(today=today)

    has_active = Exists(Subscription.objects.filter(active_on_q(today), account=OuterRef("pk")))
    has_any = Exists(Subscription.objects.filter(account=OuterRef("pk"), start_date__lte=today))
    churned = list(
        Account.objects.filter(has_any, ~has_active).exclude(status=AccountStatus.CHURNED).values_list("pk", "status")
    )
    won_back = list(Account.objects.filter(has_active, status=AccountStatus.CHURNED).values_list("pk", "status"))
    labels = dict(AccountStatus.choices)
    entries = [
        Activity(
            account_id=pk,
            kind=ActivityKind.CHANGE,
            subject=f"Status changed from {labels[old]} to {labels[new]}",
            details={"field": "status", "old": labels[old], "new": labels[new], "reason": "subscriptions"},
        )
        for rows, new in ((churned, AccountStatus.CHURNED), (won_back, AccountStatus.WON_BACK))
        for pk, old in rows
    ]
    Activity.objects.bulk_create(entries, batch_size=1000)
    now = timezone.now()
    Account.objects.filter(pk__in=[pk for pk, _ in churned]).update(status=AccountStatus.CHURNED, updated_at=now)
    Account.objects.filter(pk__in=[pk for pk, _ in won_back]).update(status=AccountStatus.WON_BACK, updated_at=now)
    derived.notify(
        derived.ACCOUNT_STATUS_CHANGED,
        [
            {"account_id": pk, "old": old, "new": new, "reason": "subscriptions"}
            for rows, new in ((churned, AccountStatus.CHURNED), (won_back, AccountStatus.WON_BACK))
            for pk, old in rows
        ],
    )
    return {"accounts": updated, "churned": len(churned), "won_back": len(won_back)}


HEALTH_FIELDS = {
    "health_score": "integer",
    "health_band": "varchar(16)",
    "health_trend": "integer",
    "health_scored_at": "timestamp with time zone",
    "churn_probability": "double precision",
}


def account_set_health_bulk(*, rows: list[dict], batch_size: int = 5000) -> int:
    """Cache health results on accounts, set-based (the health app's only write into accounts).

    Each row is {"account_id": …, and any of HEALTH_FIELDS}; every row must carry the same fields. One
    `UPDATE … FROM (VALUES …)` per batch (PostgreSQL, and SQLite ≥ 3.33); returns how many accounts changed.
    """
    if not rows:
        return 0
    fields = [f for f in HEALTH_FIELDS if f in rows[0]]
    if not fields or any(set(row) - {"account_id"} != set(fields) for row in rows):
        raise ValueError(f"Each row needs account_id and the same fields among {tuple(HEALTH_FIELDS)}.")
    if "health_band" in fields and derived.wanted(derived.ACCOUNT_HEALTH_BAND_CHANGED):
        _emit_band_changes(rows)

    quote = connection.ops.quote_name
    table = quote(Account._meta.db_table)

    def cast(f: str) -> str:  # SQLite keeps a time as text
        return "text" if connection.vendor == "sqlite" and f == "health_scored_at" else HEALTH_FIELDS[f]

    placeholder = "(" + ", ".join(["CAST(%s AS bigint)"] + [f"CAST(%s AS {cast(f)})" for f in fields]) + ")"
    assignments = ", ".join(
        f"{quote(Account._meta.get_field(f).column)} = v.column{i + 2}" for i, f in enumerate(fields)
    )
    updated = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            params: list = []
            for row in batch:
                params.append(row["account_id"])
                params.extend(_health_param(f, row[f]) for f in fields)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([placeholder] * len(batch))}) AS v "
                f"WHERE {table}.{quote('id')} = v.column1",
                params,
            )
            updated += cursor.rowcount
    return updated


def _health_param(field: str, value):
    if field == "health_band" and value is None:
        return ""
    if field == "health_scored_at":
        return Account._meta.get_field(field).get_db_prep_value(value, connection)
    return value


def _emit_band_changes(rows: list[dict]) -> None:
    """`account.health_band_changed` for every scored account whose band moves (red → yellow, …); an account
    scored for the first time, or no longer scored, has no band to move from or to."""
    ids = [row["account_id"] for row in rows]
    scope = filter_ids(Account.objects, ids, "pk")
    before = {pk: (band, ext) for pk, band, ext in scope.values_list("pk", "health_band", "external_id")}
    payloads = []
    for row in rows:
        old, external_id = before.get(row["account_id"], ("", ""))
        new = row["health_band"] or ""
        if old and new and old != new:
            payloads.append({"account_id": row["account_id"], "external_id": external_id, "old": old, "new": new,
                             "score": row.get("health_score")})  # fmt: skip
    derived.notify(derived.ACCOUNT_HEALTH_BAND_CHANGED, payloads)


def contact_unsubscribe(*, email: str) -> int:
    """Mark every contact with this address unsubscribed from automated email (the automations unsubscribe page)."""
    from accounts.models import Contact

    return Contact.objects.filter(email__iexact=email.strip(), unsubscribed=False).update(unsubscribed=True)


# --- Surveys, tags and cancellations (used by the win-back app, issue 7) --------------------------------------------


def survey_response_create(
    *,
    account: Account,
    kind: str,
    score: int,
    responded_at: dt.datetime | None = None,
    contact=None,
    comment: str = "",
    external_id: str = "",
):
    """Record an NPS (0–10) or CSAT (1–5) answer; an out-of-range score raises ValueError and records nothing."""
    from accounts.models import SurveyKind, SurveyResponse

    ranges = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5)}
    if kind not in ranges:
        raise ValueError(f"Unknown survey kind {kind!r}.")
    low, high = ranges[kind]
    if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
        raise ValueError(f"The score must be a whole number from {low} to {high}.")
    with transaction.atomic():
        response = SurveyResponse.objects.create(
            account=account,
            contact=contact,
            kind=kind,
            score=score,
            comment=comment.strip(),
            responded_at=responded_at or timezone.now(),
            external_id=external_id,
        )
        derived.notify(derived.FACTS_CHANGED, [account.pk])
    return response


def account_add_tag(*, account: Account, name: str) -> None:
    """Put a tag (created when new) on an account; adding it twice changes nothing."""
    from accounts.models import Tag

    tag, _ = Tag.objects.get_or_create(name=name)
    account.tags.add(tag)


@transaction.atomic
def subscriptions_cancel(*, account: Account, end_date: dt.date, reason: str, actor: AbstractBaseUser | None) -> int:
    """End the account's subscriptions still open at `end_date` on that date (a cancellation), with the reason.

    Returns how many subscriptions were ended. Paused subscriptions end too, and the resumption a pause had
    scheduled is dropped: a cancellation is not a pause.
    """
    from accounts.models import SubscriptionStatus

    _ensure_can_edit(actor, account)
    # A pause running then was to resume later: its scheduled resumption goes with the cancellation.
    for paused in Subscription.objects.filter(account=account, status=SubscriptionStatus.PAUSED).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=end_date)
    ):
        Subscription.objects.filter(
            account=account, product=paused.product, start_date=paused.end_date, status=SubscriptionStatus.ACTIVE
        ).delete()
    Subscription.objects.filter(account=account, status=SubscriptionStatus.PAUSED, start_date__gte=end_date).delete()
    still_open = Subscription.objects.filter(account=account, start_date__lt=end_date).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=end_date)
    )
    return still_open.update(end_date=end_date, status=SubscriptionStatus.CANCELED, cancellation_reason=reason[:64])


@transaction.atomic
def subscriptions_pause(
    *, account: Account, start_date: dt.date, resume_date: dt.date, actor: AbstractBaseUser | None
) -> int:
    """Pause the account's subscriptions open at `start_date` until `resume_date` (exclusive).

    A pause is not churn and carries no MRR: each open row ends on `start_date` (no cancellation reason), a
    paused row at MRR 0 covers [start_date, resume_date), and a row with the old MRR resumes on `resume_date`
    (until the old end date, if any). Coverage never breaks, so the account stays active and nothing counts as
    churn; its MRR is 0 while paused. Returns how many subscriptions were paused.
    """
    from accounts.models import SubscriptionStatus

    _ensure_can_edit(actor, account)
    if resume_date <= start_date:
        raise ValueError("The resume date must be after the pause starts.")
    rows = list(
        Subscription.objects.select_for_update()
        .filter(account=account)
        .filter(active_on_q(start_date))
        .exclude(status=SubscriptionStatus.PAUSED)
    )
    if not rows:
        raise ValueError("There is no active subscription to pause on that date.")
    if (
        Subscription.objects.filter(account=account, status=SubscriptionStatus.PAUSED, start_date__lt=resume_date)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=start_date))
        .exists()
    ):
        raise ValueError("The account is already paused then.")
    created: list[Subscription] = []
    for row in rows:
        old_end = row.end_date
        pause_end = resume_date if old_end is None or old_end > resume_date else old_end
        common = {
            "account": account,
            "product": row.product,
            "quantity": row.quantity,
            "units": row.units,
            "billing_period": row.billing_period,
        }
        created.append(
            Subscription(
                **common, mrr=Decimal("0"), start_date=start_date, end_date=pause_end, status=SubscriptionStatus.PAUSED
            )
        )
        if old_end is None or old_end > resume_date:
            created.append(
                Subscription(
                    **common, mrr=row.mrr, start_date=resume_date, end_date=old_end, status=SubscriptionStatus.ACTIVE
                )
            )
        if row.start_date < start_date:
            row.end_date = start_date
            row.save(update_fields=["end_date"])
        else:  # starts on the pause day: the paused row takes its place
            row.delete()
    Subscription.objects.bulk_create(created)
    derived.notify(derived.FACTS_CHANGED, [account.pk])
    _change_entry(
        account=account, actor=actor, field="subscriptions", old="active", new=f"paused until {resume_date:%Y-%m-%d}"
    ).save()
    return len(rows)


@transaction.atomic
def subscriptions_resume(*, account: Account, on: dt.date, actor: AbstractBaseUser | None) -> int:
    """End a pause early: the paused rows open at `on` end then and the rows scheduled to resume start then.

    Returns how many subscriptions resumed (0 when the account is not paused on that day).
    """
    from accounts.models import SubscriptionStatus

    _ensure_can_edit(actor, account)
    paused = list(
        Subscription.objects.select_for_update()
        .filter(account=account, status=SubscriptionStatus.PAUSED)
        .filter(active_on_q(on))
    )
    resumed = 0
    for row in paused:
        following = Subscription.objects.filter(
            account=account, product=row.product, start_date=row.end_date, status=SubscriptionStatus.ACTIVE
        ).first()
        if row.end_date is not None and following is not None:
            following.start_date = on
            following.save(update_fields=["start_date"])
        if row.start_date < on:
            row.end_date = on
            row.save(update_fields=["end_date"])
        else:
            row.delete()
        resumed += 1
    if resumed:
        derived.notify(derived.FACTS_CHANGED, [account.pk])
    if resumed:
        _change_entry(account=account, actor=actor, field="subscriptions", old="paused", new="active").save()
    return resumed


def account_remove_tag(*, account: Account, name: str) -> None:
    """Take a tag off an account (used by automation rules); a tag it does not carry changes nothing."""
    from accounts.models import Tag

    account.tags.remove(*Tag.objects.filter(name=name))


@transaction.atomic
def account_set_lifecycle_stage(*, account: Account, stage: str, actor: AbstractBaseUser | None) -> Account:
    """Move an account to another lifecycle stage (journeys and rules), with an audit entry on its timeline."""
    from accounts.models import LifecycleStage

    _ensure_can_edit(actor, account)
    if stage not in LifecycleStage.values:
        raise ValueError(f"Unknown lifecycle stage {stage!r}.")
    if account.lifecycle_stage != stage:
        old = account.get_lifecycle_stage_display()
        account.lifecycle_stage = stage
        account.save(update_fields=["lifecycle_stage", "updated_at"])
        new = account.get_lifecycle_stage_display()
        _change_entry(account=account, actor=actor, field="lifecycle_stage", old=old, new=new).save()
    return account


# --- Bulk writes for automation rules (one statement per kind of change, audit and webhooks in bulk) ----------------


def tasks_create_bulk(*, tasks: list[Task], batch_size: int = 2000) -> list[Task]:
    """Create many system tasks at once (unsaved `Task` instances; unassigned ones go to the account owner).

    One INSERT per batch, and their `task.created` webhooks queued in one INSERT.
    """
    for task in tasks:
        if task.assignee_id is None and task.account.owner_id:
            task.assignee_id = task.account.owner_id
    created = Task.objects.bulk_create(tasks, batch_size=batch_size)
    derived.notify(derived.TASK_CREATED, [task_webhook_payload(t) for t in created])
    return created


def _set_field_bulk(*, account_ids: list[int], field: str, value: str, choices) -> list[Account]:
    changing = list(Account.objects.filter(pk__in=account_ids).exclude(**{field: value}).order_by("pk"))
    if not changing:
        return []
    labels = dict(choices.choices)
    entries = [
        _change_entry(account=a, actor=None, field=field, old=labels.get(getattr(a, field), ""), new=labels[value])
        for a in changing
    ]
    Account.objects.filter(pk__in=[a.pk for a in changing]).update(**{field: value, "updated_at": timezone.now()})
    Activity.objects.bulk_create(entries, batch_size=2000)
    return changing


@transaction.atomic
def accounts_set_status_bulk(*, account_ids: list[int], status: str) -> set[int]:
    """The system changes many accounts' status: one UPDATE, an audit entry each and their webhooks in bulk.

    Returns the ids that changed (the others had that status already).
    """
    if status not in AccountStatus.values:
        raise ValueError(f"Unknown status {status!r}.")
    changed = _set_field_bulk(account_ids=account_ids, field="status", value=status, choices=AccountStatus)
    derived.notify(
        derived.ACCOUNT_STATUS_CHANGED,
        [{"account_id": a.pk, "external_id": a.external_id, "old": a.status, "new": status} for a in changed],
    )
    return {a.pk for a in changed}


@transaction.atomic
def accounts_set_lifecycle_stage_bulk(*, account_ids: list[int], stage: str) -> set[int]:
    """The system moves many accounts to a lifecycle stage: one UPDATE, an audit entry each. Returns the changed ids."""
    from accounts.models import LifecycleStage

    if stage not in LifecycleStage.values:
        raise ValueError(f"Unknown lifecycle stage {stage!r}.")
    changed = _set_field_bulk(account_ids=account_ids, field="lifecycle_stage", value=stage, choices=LifecycleStage)
    return {a.pk for a in changed}


def accounts_add_tag_bulk(*, account_ids: list[int], name: str) -> None:
    """Put a tag (created when new) on many accounts in one INSERT; accounts carrying it already are unchanged."""
    from accounts.models import Tag

    tag, _ = Tag.objects.get_or_create(name=name)
    through = Account.tags.through
    through.objects.bulk_create(
        [through(account_id=pk, tag_id=tag.pk) for pk in set(account_ids)], ignore_conflicts=True, batch_size=5000
    )


def accounts_remove_tag_bulk(*, account_ids: list[int], name: str) -> None:
    """Take a tag off many accounts in one DELETE."""
    Account.tags.through.objects.filter(account_id__in=account_ids, tag__name=name).delete()
