"""Surveys: invitations on schedules (sampling, fatigue), the tokenised answer, routing, reminders, follow-up."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import (
    Account,
    Contact,
    Subscription,
    SupportTicket,
    SurveyResponse,
    TaskPriority,
    TaskSource,
    TaskStatus,
)
from winback import conf, emailing, textmining, texts
from winback.models import (
    IssueRoute,
    IssueType,
    ResponseFollowUp,
    SegmentStay,
    SurveyInvitation,
    SurveySchedule,
    SurveyTrigger,
    Theme,
)
from winback.services.facts import page_facts_refresh_soon

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Days a lifecycle moment stays catchable, so a missed beat run does not lose it.
MOMENT_WINDOW_DAYS = 3


class SurveyTokenError(Exception):
    """The link cannot take an answer: unknown, already used or expired. Nothing is recorded."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def survey_url(invitation: SurveyInvitation) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("winback:survey-answer", args=[invitation.token])


def _sampled(*, schedule: SurveySchedule, contact_id: int, trigger_key: str) -> bool:
    """Deterministic sampling: the same contact and moment always get the same draw."""
    if schedule.sample_rate >= 1:
        return True
    digest = hashlib.sha256(f"{schedule.pk}:{contact_id}:{trigger_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < schedule.sample_rate


def fatigued_contact_ids(*, contact_ids: list[int], now: dt.datetime | None = None) -> set[int]:
    """Contacts surveyed (invited or answered) within the fatigue window."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=conf.get("SURVEY_FATIGUE_DAYS"))
    # An invitation the outbox suppressed (unsubscribed, capped) never reached the contact: it does not count.
    invited = SurveyInvitation.objects.filter(contact_id__in=contact_ids, created_at__gte=since).exclude(
        email_status="suppressed"
    )
    answered = SurveyResponse.objects.filter(contact_id__in=contact_ids, responded_at__gte=since)
    return set(invited.values_list("contact_id", flat=True)) | set(answered.values_list("contact_id", flat=True))


def _send_invitation(invitation: SurveyInvitation, *, reminder: bool = False) -> emailing.Sent:
    return emailing.send_template(
        template_key=texts.SURVEY_TEMPLATE[invitation.kind],
        contact=invitation.contact,
        account=invitation.account,
        subject_prefix=texts.REMINDER_PREFIX if reminder else "",
        source="survey",
        dedupe_key=f"survey:{invitation.pk}:{'reminder' if reminder else 'invite'}",
        extra={"survey": {"url": survey_url(invitation), "expires_on": invitation.expires_at.date()}},
        # The invitation already passed the survey fatigue check; the reminder belongs to the same ask.
        respect_frequency_cap=not reminder,
    )


def survey_invite(
    *,
    contact: Contact,
    kind: str,
    schedule: SurveySchedule | None = None,
    trigger_key: str = "",
    now: dt.datetime | None = None,
    send: bool = True,
) -> SurveyInvitation | None:
    """Ask one contact; None when the contact was surveyed within the fatigue window or was already asked then."""
    now = now or timezone.now()
    if kind not in ("nps", "csat"):
        raise ValueError(f"Unknown survey kind {kind!r}.")
    if contact.pk in fatigued_contact_ids(contact_ids=[contact.pk], now=now):
        return None
    days = schedule.expires_after_days if schedule else 14
    try:
        with transaction.atomic():
            invitation = SurveyInvitation.objects.create(
                schedule=schedule,
                account_id=contact.account_id,
                contact=contact,
                kind=kind,
                token=secrets.token_urlsafe(32),
                trigger_key=trigger_key,
                created_at=now,
                expires_at=now + dt.timedelta(days=days),
            )
    except IntegrityError:
        return None  # this schedule already asked this contact for this moment
    if send and contact.email:
        sent = _send_invitation(invitation)
        invitation.sent_at = now if not sent.suppressed else None
        invitation.email_status = sent.status
        invitation.save(update_fields=["sent_at", "email_status"])
    return invitation


def _moments(schedule: SurveySchedule, today: dt.date) -> list[tuple[int, str]]:
    """(account id, trigger key) pairs at the schedule's lifecycle moment, over the last few days."""
    window_start = today - dt.timedelta(days=MOMENT_WINDOW_DAYS)
    n = dt.timedelta(days=schedule.offset_days)
    if schedule.trigger == SurveyTrigger.DAYS_AFTER_START:
        starts = (
            Subscription.objects.values("account_id")
            .annotate(first=Min("start_date"))
            .filter(first__gt=window_start - n, first__lte=today - n)
        )
        return [(row["account_id"], f"start:{row['first']}") for row in starts]
    if schedule.trigger == SurveyTrigger.DAYS_BEFORE_RENEWAL:
        rows = Account.objects.filter(renewal_date__gt=window_start + n, renewal_date__lte=today + n)
        return [(pk, f"renewal:{day}") for pk, day in rows.values_list("pk", "renewal_date")]
    if schedule.trigger == SurveyTrigger.TICKET_RESOLVED:
        since = dt.datetime.combine(window_start, dt.time.min, tzinfo=dt.UTC) - n
        rows = SupportTicket.objects.filter(
            resolved_at__gte=since, resolved_at__lt=timezone.now() - n, status__in=["resolved", "closed"]
        )
        return [(a, f"ticket:{t}") for t, a in rows.values_list("pk", "account_id")]
    if schedule.trigger == SurveyTrigger.SEGMENT_ENTRY and schedule.segment:
        # Entered the segment N days ago (recorded by the segment history) and still in it; one ask per entry.
        stays = SegmentStay.objects.filter(
            segment=schedule.segment,
            left_on__isnull=True,
            entered_on__gt=window_start - n,
            entered_on__lte=today - n,
        ).exclude(account__status="churned")
        return [(a, f"segment:{schedule.segment}:{day}") for a, day in stays.values_list("account_id", "entered_on")]
    return []


@transaction.atomic
def segment_history_sync(*, today: dt.date | None = None) -> dict[str, int]:
    """Record segment changes: close the stays of accounts that left their segment, open one for each account
    seen in a segment anew. Set-based, whatever wrote the segment (API, import, admin).

    The first sync only records where accounts are (no entries): an account already in a segment before the
    history began did not just enter it. After that, a new account or a changed segment is an entry today.
    """
    today = today or timezone.localdate()
    started = SegmentStay.objects.exists()
    left = SegmentStay.objects.filter(left_on__isnull=True).exclude(segment=F("account__segment")).update(left_on=today)
    open_stays = SegmentStay.objects.filter(account=OuterRef("pk"), left_on__isnull=True)
    rows = list(Account.objects.filter(~Exists(open_stays)).values_list("pk", "segment"))
    SegmentStay.objects.bulk_create(
        [SegmentStay(account_id=pk, segment=segment, entered_on=today if started else None) for pk, segment in rows],
        batch_size=2000,
        ignore_conflicts=True,  # another sync opened it meanwhile
    )
    return {"left": left, "entered": len(rows) if started else 0}


def _respondent(account_ids: list[int]) -> dict[int, Contact]:
    """Whom to ask per account: the primary contact, else the first contact with an email."""
    contacts = (
        Contact.objects.filter(account_id__in=account_ids, unsubscribed=False)
        .exclude(email="")
        .select_related("account", "account__owner")
        .order_by("account_id", "-is_primary", "id")
    )
    chosen: dict[int, Contact] = {}
    for contact in contacts:
        chosen.setdefault(contact.account_id, contact)
    return chosen


def survey_schedules_run(*, today: dt.date | None = None, now: dt.datetime | None = None) -> dict[str, int]:
    """Invite the contacts at each active schedule's lifecycle moment, after sampling and the fatigue limit."""
    now = now or timezone.now()
    today = today or timezone.localdate()
    counts = {"moments": 0, "sampled_out": 0, "fatigued": 0, "invited": 0}
    # Segment entries are recorded on every run, so the history is there when a segment-entry schedule needs it.
    counts["segment_entries"] = segment_history_sync(today=today)["entered"]
    for schedule in SurveySchedule.objects.filter(is_active=True):
        moments = _moments(schedule, today)
        counts["moments"] += len(moments)
        contacts = _respondent([a for a, _ in moments])
        fatigued = fatigued_contact_ids(contact_ids=[c.pk for c in contacts.values()], now=now)
        for account_id, key in moments:
            contact = contacts.get(account_id)
            if contact is None:
                continue
            if not _sampled(schedule=schedule, contact_id=contact.pk, trigger_key=key):
                counts["sampled_out"] += 1
                continue
            if contact.pk in fatigued:
                counts["fatigued"] += 1
                continue
            if survey_invite(contact=contact, kind=schedule.kind, schedule=schedule, trigger_key=key, now=now):
                counts["invited"] += 1
                fatigued.add(contact.pk)
    return counts


def survey_reminders_send(*, now: dt.datetime | None = None) -> int:
    """One reminder to each contact who has not answered after the schedule's reminder delay (link still valid)."""
    now = now or timezone.now()
    due = (
        SurveyInvitation.objects.filter(
            responded_at__isnull=True, reminded_at__isnull=True, sent_at__isnull=False, expires_at__gt=now
        )
        .filter(Q(schedule__isnull=True) | Q(schedule__reminder_after_days__gt=0))
        .select_related("schedule", "contact", "account", "account__owner")
    )
    sent = 0
    for invitation in due:
        delay = invitation.schedule.reminder_after_days if invitation.schedule else 3
        if invitation.sent_at > now - dt.timedelta(days=delay):
            continue
        if SurveyInvitation.objects.filter(pk=invitation.pk, reminded_at__isnull=True).update(reminded_at=now) != 1:
            continue  # another worker took it
        _send_invitation(invitation, reminder=True)
        sent += 1
    return sent


def invitation_for_token(*, token: str, now: dt.datetime | None = None) -> SurveyInvitation:
    """The open invitation of a link, or SurveyTokenError("unknown" / "used" / "expired")."""
    now = now or timezone.now()
    invitation = (
        SurveyInvitation.objects.select_related("account", "contact").filter(token=token).first() if token else None
    )
    if invitation is None:
        raise SurveyTokenError("unknown")
    if invitation.responded_at is not None:
        raise SurveyTokenError("used")
    if invitation.expires_at <= now:
        raise SurveyTokenError("expired")
    return invitation


def survey_answer(
    *, token: str, score: int, comment: str = "", issue_type: str = "", now: dt.datetime | None = None
) -> SurveyResponse:
    """Take the answer of a tokenised link: once, before it expires, with a score in range; then route it
    (a dissatisfied answer by the issue type the contact chose, if any)."""
    from winback.services.themes import themes_tag_responses

    now = now or timezone.now()
    if issue_type and issue_type not in IssueType.values:
        raise ValueError(f"Unknown issue type {issue_type!r}.")
    with transaction.atomic():
        invitation = invitation_for_token(token=token, now=now)
        # Lock the row so two submits of the same link cannot both record an answer.
        locked = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.responded_at is not None:
            raise SurveyTokenError("used")
        response = account_services.survey_response_create(
            account=invitation.account,
            contact=invitation.contact,
            kind=invitation.kind,
            score=score,
            comment=comment[:5000],
            responded_at=now,
        )
        locked.response = response
        locked.responded_at = now
        locked.save(update_fields=["response", "responded_at"])
        response_route(response=response, issue_type=issue_type)
    if response.comment:
        themes_tag_responses(response_ids=[response.pk])
    page_facts_refresh_soon()
    return response


def _task_title(response: SurveyResponse) -> str:
    who = response.contact or "a contact"
    label = f"{response.get_kind_display()} {response.score}"
    return f"{response.category.capitalize()}: {label} from {who}"


def _issue_type_of(response: SurveyResponse, asked: str) -> tuple[str, str]:
    """(issue type, how it is known): as the contact chose it, else from the first theme its comment mentions."""
    if asked:
        return asked, "asked"
    if response.comment:
        for theme in Theme.objects.exclude(issue_type="").exclude(keywords="").order_by("name"):
            if textmining.keyword_matches(response.comment, theme.keyword_list):
                return theme.issue_type, "theme"
    return "", ""


def _issue_route(*, issue_type: str, account: Account) -> tuple[AbstractBaseUser | None, int]:
    """Who follows up a dissatisfied answer of this issue type and in how many days (the SLA)."""
    from django.contrib.auth import get_user_model

    route = IssueRoute.objects.select_related("assignee").filter(issue_type=issue_type).first() if issue_type else None
    if route is None:
        return account.owner, conf.get("DETRACTOR_SLA_DAYS")
    if route.assignee is not None and route.assignee.is_active:
        return route.assignee, route.sla_days
    if route.role:
        member = (
            get_user_model()
            .objects.filter(is_active=True, groups__name=route.role)
            .annotate(n_open=Count("tasks", filter=Q(tasks__status=TaskStatus.OPEN)))
            .order_by("n_open", "pk")
            .first()
        )
        if member is not None:
            return member, route.sla_days
    return account.owner, route.sla_days


@transaction.atomic
def response_route(*, response: SurveyResponse, issue_type: str = "", today: dt.date | None = None) -> ResponseFollowUp:
    """Route an answer once: detractor → high-priority task due within the SLA, for whom its issue type routes to
    (the owner by default); passive → CSM task; promoter → advocacy tag and, when configured, a review/referral
    ask. CSAT 1–2 and 3 route like detractor and passive."""
    existing = ResponseFollowUp.objects.filter(response=response).first()
    if existing is not None:
        return existing
    today = today or timezone.localdate()
    account = response.account
    category = response.category
    follow_up = ResponseFollowUp(response=response, category=category)
    description = f"“{response.comment}”" if response.comment else "No comment left."
    if category in ("detractor", "dissatisfied"):
        follow_up.issue_type, follow_up.issue_type_source = _issue_type_of(response, issue_type)
        assignee, sla_days = _issue_route(issue_type=follow_up.issue_type, account=account)
        follow_up.sla_due_on = today + dt.timedelta(days=sla_days)
        about = f" ({follow_up.get_issue_type_display().lower()})" if follow_up.issue_type else ""
        follow_up.task = account_services.task_create(
            account=account,
            title=_task_title(response) + about + ": call back",
            description=description,
            created_by=None,
            assignee=assignee,
            due_date=follow_up.sla_due_on,
            priority=TaskPriority.HIGH,
            source=TaskSource.SURVEY,
        )
    elif category in ("passive", "neutral"):
        follow_up.task = account_services.task_create(
            account=account,
            title=_task_title(response) + ": ask what would make it a 10",
            description=description,
            created_by=None,
            due_date=today + dt.timedelta(days=conf.get("PASSIVE_DUE_DAYS")),
            priority=TaskPriority.NORMAL,
            source=TaskSource.SURVEY,
        )
    elif category == "promoter":
        account_services.account_add_tag(account=account, name=conf.get("PROMOTER_TAG"))
        review_url = conf.get("REVIEW_URL")
        if review_url and response.contact and response.contact.email:
            transaction.on_commit(
                lambda: emailing.send_template(
                    template_key=texts.REVIEW_TEMPLATE,
                    contact=response.contact,
                    account=account,
                    source="survey",
                    dedupe_key=f"survey-review:{response.pk}",
                    extra={"review": {"url": review_url}},
                )
            )
    follow_up.save()
    return follow_up


def issue_route_set(
    *, issue_type: str, assignee: AbstractBaseUser | None, role: str, sla_days: int, actor: AbstractBaseUser
) -> IssueRoute:
    """Configure who follows up dissatisfied answers of an issue type and the SLA (managers and admins)."""
    from django.core.exceptions import PermissionDenied

    from churnapp.roles import can_configure

    if not can_configure(actor):
        raise PermissionDenied("Only managers and admins configure routing.")
    if issue_type not in IssueType.values:
        raise ValueError(f"Unknown issue type {issue_type!r}.")
    if not 1 <= sla_days <= 30:
        raise ValueError("The SLA is 1 to 30 days.")
    route, _ = IssueRoute.objects.update_or_create(
        issue_type=issue_type, defaults={"assignee": assignee, "role": role, "sla_days": sla_days}
    )
    return route


def follow_ups_remind_overdue(*, today: dt.date | None = None) -> int:
    """One reminder per dissatisfied answer whose follow-up is past its SLA date and still open: a notification
    (in the app and by email) to the task's assignee and the account owner. Returns how many were reminded."""
    from messaging.notifications import notify_many

    today = today or timezone.localdate()
    due = ResponseFollowUp.objects.filter(
        sla_due_on__lt=today,
        followed_up_at__isnull=True,
        overdue_reminded_at__isnull=True,
        task__status=TaskStatus.OPEN,
    )
    ids = list(due.values_list("pk", flat=True)[:5000])
    # Claim first, so a second worker or a retry reminds nobody twice.
    ResponseFollowUp.objects.filter(pk__in=ids, overdue_reminded_at__isnull=True).update(
        overdue_reminded_at=timezone.now()
    )
    rows = ResponseFollowUp.objects.filter(pk__in=ids).select_related(
        "task__assignee", "response__account__owner", "response__contact"
    )
    items = []
    for follow_up in rows:
        account = follow_up.response.account
        users = {u.pk: u for u in (follow_up.task.assignee, account.owner) if u is not None}
        late = (today - follow_up.sla_due_on).days
        items.append(
            {
                "users": list(users.values()),
                "title": f"Overdue: {follow_up.task.title}",
                "body": f"Due {follow_up.sla_due_on:%Y-%m-%d} ({late} day{'s' if late != 1 else ''} late).",
                "url": settings.SITE_URL.rstrip("/") + reverse("account-detail", args=[account.pk]),
                "account": account,
                "dedupe_key": f"follow-up-overdue:{follow_up.pk}",
            }
        )
    notify_many(items=items, email=True, label="Overdue survey follow-ups")
    return len(items)


def responses_route_new(*, now: dt.datetime | None = None) -> int:
    """Route answers that came in another way (import, API, survey tool) and are recent enough to act on."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=conf.get("ROUTE_MAX_AGE_DAYS"))
    fresh = SurveyResponse.objects.filter(responded_at__gte=since, follow_up__isnull=True).select_related(
        "account", "account__owner", "contact"
    )
    routed = 0
    for response in fresh:
        response_route(response=response)
        routed += 1
    return routed


@transaction.atomic
def response_follow_up(*, response: SurveyResponse, actor: AbstractBaseUser, note: str) -> ResponseFollowUp:
    """Close the loop with one customer: the answer is followed up (with a note) and its task done."""
    from django.core.exceptions import PermissionDenied

    from churnapp.roles import can_edit_account

    if not can_edit_account(actor, response.account):
        raise PermissionDenied("You can only follow up answers of the accounts you own.")
    follow_up, _ = ResponseFollowUp.objects.get_or_create(response=response, defaults={"category": response.category})
    if follow_up.followed_up_at is None:
        follow_up.followed_up_at = timezone.now()
        follow_up.followed_up_by = actor
    follow_up.note = note.strip()
    follow_up.save(update_fields=["followed_up_at", "followed_up_by", "note"])
    if follow_up.task_id:
        account_services.task_complete(task=follow_up.task, actor=actor, outcome=note.strip())
    account_services.activity_create(
        account=response.account,
        author=actor,
        subject=f"Followed up {response.get_kind_display()} {response.score}",
        body=note.strip(),
    )
    page_facts_refresh_soon()
    return follow_up
