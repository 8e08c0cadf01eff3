"""Reads of the accounts domain. Definitions follow DESIGN.md ("KPI definitions") exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Count, DecimalField, Exists, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from accounts.models import (
    Account,
    AccountStatus,
    Activity,
    BulkEdit,
    Contact,
    ExchangeRate,
    ImportJob,
    InboundWebhookEvent,
    SavedView,
    Subscription,
    SupportTicket,
    SurveyResponse,
    Tag,
    Task,
    TaskStatus,
    UsageEvent,
)
from accounts.rates import IN_REPORTING_CURRENCY, foreign_mrr_on
from churnapp.months import add_months
from churnapp.roles import Role, can_configure

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

ZERO = Decimal("0")


def active_on_q(day: dt.date, prefix: str = "") -> Q:
    """Q for subscriptions active at `day`: start_date <= day and (end_date is null or end_date > day)."""
    return Q(**{f"{prefix}start_date__lte": day}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gt": day})
    )


def next_renewal(*, first_start: dt.date, billing_period: int, day: dt.date) -> dt.date:
    """The account's next renewal after `day`: terms renew on anniversaries of its first subscription's start, in
    steps of its billing period (months; monthly terms renew every month). Pure: the one rule behind every renewal
    date and "days to renewal" shown anywhere."""
    months = max(int(billing_period or 1), 1)
    # Counted from the first start each time, so a term starting on the 31st does not drift to the 28th.
    k = max(((day.year - first_start.year) * 12 + day.month - first_start.month) // months, 1)
    while k > 1 and add_months(first_start, (k - 1) * months) > day:
        k -= 1
    renewal = add_months(first_start, k * months)
    while renewal <= day:
        k += 1
        renewal = add_months(first_start, k * months)
    return renewal


def next_renewal_dates(*, day: dt.date, account_ids: list[int] | None = None) -> dict[int, dt.date]:
    """The renewal date per account active at `day` (`next_renewal` of its first start and the longest billing
    period among its active subscriptions).

    The one definition behind Account.renewal_date (Customer 360, accounts list, My day's renewals, rules) and the
    health metric "days to renewal" (Priorities, churn drivers).
    """
    subs = Subscription.objects.filter(start_date__lte=day)
    if account_ids is not None:
        subs = subs.filter(account_id__in=account_ids)
    first: dict[int, dt.date] = {}
    period: dict[int, int] = {}
    rows = subs.values_list("account_id", "start_date", "end_date", "billing_period").order_by()
    for account_id, start, end, months in rows.iterator(chunk_size=5000):
        if account_id not in first or start < first[account_id]:
            first[account_id] = start
        if end is None or end > day:
            period[account_id] = max(period.get(account_id, 0), months or 1)
    return {pk: next_renewal(first_start=first[pk], billing_period=months, day=day) for pk, months in period.items()}


def subscriptions_active_on(*, day: dt.date) -> QuerySet[Subscription]:
    return Subscription.objects.filter(active_on_q(day))


def accounts_active_on(*, day: dt.date) -> QuerySet[Account]:
    """Accounts holding at least one subscription active at `day`."""
    return Account.objects.filter(Exists(subscriptions_active_on(day=day).filter(account=OuterRef("pk"))))


def account_mrr_on(*, day: dt.date, account_ids: list[int] | None = None) -> dict[int, Decimal]:
    """MRR at `day` per account: the sum of MRR of its subscriptions active at `day` (active accounts only), those
    priced in another currency at the rate valid on `day`."""
    subs = subscriptions_active_on(day=day).filter(IN_REPORTING_CURRENCY)
    if account_ids is not None:
        subs = subs.filter(account_id__in=account_ids)
    totals = {
        row["account_id"]: row["total"] for row in subs.values("account_id").annotate(total=Sum("mrr")).order_by()
    }
    for account_id, amount in foreign_mrr_on([day], account_ids=account_ids)[day].items():
        totals[account_id] = totals.get(account_id, ZERO) + amount
    return totals


def total_mrr_on(*, day: dt.date) -> Decimal:
    booked = (
        subscriptions_active_on(day=day)
        .filter(IN_REPORTING_CURRENCY)
        .aggregate(total=Coalesce(Sum("mrr"), Value(ZERO)))["total"]
    )
    return booked + sum(foreign_mrr_on([day])[day].values(), ZERO)


def latest_survey_score(*, kind: str, before: dt.datetime | None = None) -> Subquery:
    """Subquery for an account's latest answer of `kind` (nps | csat), answered before `before` when given: the
    newest by time, then by id. The one definition of "latest NPS/CSAT" (health factor, churn drivers, win-back
    card, rules); annotate with it: `Account.objects.annotate(nps=latest_survey_score(kind="nps"))`."""
    answers = SurveyResponse.objects.filter(account=OuterRef("pk"), kind=kind)
    if before is not None:
        answers = answers.filter(responded_at__lt=before)
    return Subquery(answers.order_by("-responded_at", "-pk").values("score")[:1])


def latest_survey_scores(
    *, kind: str, account_ids: list[int] | None = None, before: dt.datetime | None = None
) -> dict[int, int]:
    """{account id: latest score of `kind`} for the accounts that answered (see `latest_survey_score`)."""
    accounts = Account.objects.all() if account_ids is None else Account.objects.filter(pk__in=account_ids)
    rows = accounts.annotate(score=latest_survey_score(kind=kind, before=before)).filter(score__isnull=False)
    return dict(rows.values_list("pk", "score"))


def account_list(*, queryset: QuerySet[Account] | None = None) -> QuerySet[Account]:
    """Accounts with what the list shows, in a fixed number of queries whatever the page size."""
    qs = queryset if queryset is not None else Account.objects.all()
    return qs.select_related("owner").prefetch_related("tags")


def account_detail(*, pk: int) -> Account:
    return (
        Account.objects.select_related("owner")
        .prefetch_related("tags")
        .annotate(
            open_ticket_count=Count("tickets", filter=Q(tickets__status__in=["open", "pending"]), distinct=True),
        )
        .get(pk=pk)
    )


def account_subscriptions(*, account: Account) -> QuerySet[Subscription]:
    return account.subscriptions.order_by("-start_date", "product")


def account_tasks(*, account: Account) -> QuerySet[Task]:
    return account.tasks.select_related("assignee").order_by("status", "due_date", "-created_at")


def account_tickets(*, account: Account) -> QuerySet[SupportTicket]:
    return account.tickets.order_by("-opened_at")


def account_contacts(*, account: Account):
    return account.contacts.all()


def account_timeline(*, account: Account, limit: int = 50) -> list[dict]:
    """Activities, tickets and survey answers of one account in one stream, newest first."""
    items: list[dict] = []
    for activity in Activity.objects.filter(account=account).select_related("author")[:limit]:
        items.append({"kind": activity.kind, "at": activity.occurred_at, "activity": activity})
    for ticket in SupportTicket.objects.filter(account=account).order_by("-opened_at")[:limit]:
        items.append({"kind": "ticket", "at": ticket.opened_at, "ticket": ticket})
    for response in SurveyResponse.objects.filter(account=account).select_related("contact")[:limit]:
        items.append({"kind": "survey", "at": response.responded_at, "response": response})
    items.sort(key=lambda item: item["at"], reverse=True)
    return items[:limit]


def account_usage_weekly(*, account: Account, weeks: int = 26, now: dt.datetime | None = None) -> list[dict]:
    """Events and distinct active users per ISO week over the last `weeks` weeks, empty weeks included."""
    now = now or timezone.now()
    today = now.date()
    first_week = today - dt.timedelta(days=today.weekday() + 7 * (weeks - 1))
    start = dt.datetime.combine(first_week, dt.time.min, tzinfo=dt.UTC)
    rows = (
        UsageEvent.objects.filter(account=account, occurred_at__gte=start)
        .annotate(week=TruncWeek("occurred_at"))
        .values("week")
        .annotate(events=Count("id"), users=Count("user_id", distinct=True))
        .order_by("week")
    )
    by_week = {row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]: row for row in rows}
    series = []
    for i in range(weeks):
        week = first_week + dt.timedelta(days=7 * i)
        row = by_week.get(week, {})
        series.append({"week": week, "events": row.get("events", 0), "users": row.get("users", 0)})
    return series


def open_task_counts(*, today: dt.date | None = None, task_filter: Q | None = None) -> dict[int | None, dict]:
    """Open and overdue tasks per assignee, read live: tasks are what a person acts on, never a stale copy.

    Open = status open; overdue = open with a due date before `today`. `task_filter` narrows the tasks (e.g. to
    the accounts of a segment, or to one assignee). The one definition behind My day and the dashboard's workload.
    """
    today = today or timezone.localdate()
    rows = (
        Task.objects.filter(task_filter or Q(), status=TaskStatus.OPEN)
        .values("assignee_id")
        .annotate(open_tasks=Count("id"), overdue_tasks=Count("id", filter=Q(due_date__lt=today)))
        .order_by()
    )
    return {
        row["assignee_id"]: {"open_tasks": row["open_tasks"], "overdue_tasks": row["overdue_tasks"]} for row in rows
    }


def my_day(*, user: AbstractBaseUser, today: dt.date | None = None, team: bool = False) -> dict:
    """A CSM's day: open tasks by due date (overdue first), at-risk accounts, renewals in the next 60 days.

    With `team`, the accounts part covers every account (a manager's view); tasks stay the user's own.
    """
    today = today or timezone.localdate()
    mine = (Account.objects.all() if team else Account.objects.filter(owner=user)).select_related("owner")
    at_risk = mine.filter(Q(status=AccountStatus.AT_RISK) | Q(health_band="red")).order_by("-mrr")[:50]
    renewals = (
        mine.filter(renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=60))
        .exclude(status=AccountStatus.CHURNED)
        .order_by("renewal_date")[:50]
    )
    return {
        **my_tasks(user=user, today=today),
        "at_risk": list(at_risk),
        "renewals": list(renewals),
        "book_mrr": mine.exclude(status=AccountStatus.CHURNED).aggregate(
            total=Coalesce(Sum("mrr"), Value(ZERO), output_field=DecimalField())
        )["total"],
        "book_count": mine.exclude(status=AccountStatus.CHURNED).count(),
        "team": team,
    }


def my_tasks(*, user: AbstractBaseUser, today: dt.date | None = None) -> dict:
    """The user's open tasks (overdue first, then by due date), their counts, and the list's version."""
    today = today or timezone.localdate()
    tasks = list(
        Task.objects.filter(assignee=user, status=TaskStatus.OPEN)
        .select_related("account")
        .order_by(Coalesce("due_date", Value(dt.date.max)), "-priority", "id")[:100]
    )
    counts = open_task_counts(today=today, task_filter=Q(assignee=user)).get(
        user.pk, {"open_tasks": 0, "overdue_tasks": 0}
    )
    return {
        "today": today,
        "tasks": tasks,
        "open_count": counts["open_tasks"],
        "overdue_count": counts["overdue_tasks"],
        "tasks_version": my_tasks_version(user=user),
    }


def my_tasks_version(*, user: AbstractBaseUser) -> str:
    """Changes whenever a task is assigned to the user, or one of theirs is closed or reassigned (one aggregate):
    My day polls it and redraws its task list only then."""
    found = Task.objects.filter(assignee=user, status=TaskStatus.OPEN).aggregate(last=Max("id"), n=Count("id"))
    return f"{found['last'] or 0}-{found['n']}"


def saved_views_for(*, user: AbstractBaseUser) -> QuerySet[SavedView]:
    return SavedView.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner").order_by("name")


def owner_choices() -> QuerySet:
    """Users who can own accounts or be assigned tasks: active, with a working role (not viewers)."""
    working = [Role.ADMIN.value, Role.MANAGER.value, Role.CSM.value]
    return (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name__in=working), is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def owner_options() -> list[tuple[int, str]]:
    """(id, display name) of owner_choices, cheap enough to render as <option>s on every page."""
    rows = owner_choices().values_list("pk", "first_name", "last_name", "username")
    return [(pk, f"{first} {last}".strip() or username) for pk, first, last, username in rows]


def inbound_webhook_summary(*, sources: tuple[str, ...] = ("stripe", "helpdesk")) -> dict[str, dict]:
    """Per inbound webhook source: how many deliveries were received and the latest one (None when never)."""
    counts = dict(
        InboundWebhookEvent.objects.filter(source__in=sources)
        .values_list("source")
        .annotate(n=Count("id"))
        .values_list("source", "n")
    )
    summary = {}
    for source in sources:
        latest = InboundWebhookEvent.objects.filter(source=source).only("type", "status", "received_at").first()
        summary[source] = {"count": counts.get(source, 0), "latest": latest}
    return summary


def sample_account() -> tuple[Account | None, Contact | None]:
    """The first account and its first contact, to preview a text against (both None on an empty workspace)."""
    account = Account.objects.select_related("owner").order_by("pk").first()
    return account, (account.contacts.order_by("pk").first() if account else None)


# --- The REST API's collections: what each lists, in its stable order, with the relations its serializer reads ---


def api_contacts() -> QuerySet[Contact]:
    return Contact.objects.select_related("account").order_by("id")


def api_subscriptions() -> QuerySet[Subscription]:
    return Subscription.objects.select_related("account").order_by("id")


def api_tickets() -> QuerySet[SupportTicket]:
    return SupportTicket.objects.select_related("account").order_by("id")


def api_survey_responses() -> QuerySet[SurveyResponse]:
    return SurveyResponse.objects.select_related("account", "contact").order_by("id")


def api_tags() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


def api_tasks() -> QuerySet[Task]:
    return Task.objects.select_related("account", "assignee").order_by("id")


def api_activities() -> QuerySet[Activity]:
    return Activity.objects.select_related("account", "author").order_by("-occurred_at", "-id")


def api_events() -> QuerySet[UsageEvent]:
    """Ordered by the viewset's cursor pagination (newest id first)."""
    return UsageEvent.objects.select_related("account")


def import_jobs_recent(*, limit: int = 50) -> list[ImportJob]:
    """The newest import jobs with who started them (the imports page)."""
    return list(ImportJob.objects.select_related("created_by")[:limit])


def accounts_by_ids(ids) -> QuerySet[Account]:
    return Account.objects.filter(pk__in=ids)


def bulk_edit_preview(*, job, limit: int = 10) -> list[Account]:
    """The first accounts a bulk edit changes, by name, for its confirmation."""
    return list(Account.objects.filter(pk__in=job.account_ids[:limit]).order_by("name").only("pk", "name"))


def bulk_edits_visible_to(user) -> QuerySet[BulkEdit]:
    """Newest first: every bulk edit for those who configure (managers, admins), one's own for the others."""
    jobs = BulkEdit.objects.order_by("-pk")
    if not user.is_authenticated:  # e.g. the API schema's generator
        return jobs.none()
    return jobs if can_configure(user) else jobs.filter(created_by=user)


def exchange_rates() -> QuerySet[ExchangeRate]:
    return ExchangeRate.objects.order_by("currency", "-valid_from")
