"""Surveys: invitations on schedules (lifecycle moments, sampling, fatigue), reminders, and the tokenised answer
(recorded once, then routed)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import services as account_services
from accounts.models import Account, Contact, Subscription, SupportTicket, SurveyResponse
from winback import conf, emailing, texts
from winback.models import IssueType, SegmentStay, SurveyInvitation, SurveySchedule, SurveyTrigger
from winback.services.follow_ups import response_route
from winback.services.page_figures import page_facts_refresh_soon
from winback.services.themes import themes_tag_responses

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
        subject_prefix=texts.reminder_prefix() if reminder else "",
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
        raise ValueError(_("Unknown survey kind %(kind)r.") % {"kind": kind})
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
    now = now or timezone.now()
    if issue_type and issue_type not in IssueType.values:
        raise ValueError(_("Unknown issue type %(issue_type)r.") % {"issue_type": issue_type})
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
