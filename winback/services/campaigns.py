"""Win-back campaigns: enrolment by reason and value, emails that name the reason, release notes, CSM reminders."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from accounts import services as account_services
from accounts.models import Account, Contact, TaskPriority, TaskSource
from churnapp.roles import can_edit_account
from churnapp.templatetags.formatting import money
from messaging.selectors import email_outbox
from winback import conf, emailing, texts
from winback.models import (
    Campaign,
    CampaignEnrollment,
    ChurnReason,
    ChurnRecord,
    ChurnType,
    CsmReminder,
    EnrollmentStatus,
    Offer,
    ReleaseNote,
    Touchpoint,
    TouchpointChannel,
    TouchpointStatus,
    WinbackSuppression,
)
from winback.services.page_figures import page_facts_refresh_soon

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def _reason_ids_with_children(reasons) -> set[int]:
    """A campaign aimed at "product" also reaches "product › missing integration"."""
    ids = {r.pk for r in reasons}
    children = set(ChurnReason.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
    return ids | children


def campaign_candidates(*, campaign: Campaign):
    """Churn records a campaign may take: not won back, the account's latest departure, matching reason and band."""
    records = (
        ChurnRecord.objects.filter(won_back_on__isnull=True)
        .exclude(churn_type=ChurnType.DOWNGRADE)
        .exclude(account__status__in=["active", "won_back", "onboarding"])
        .select_related("reason", "account")
    )
    reason_ids = _reason_ids_with_children(campaign.reasons.all())
    if reason_ids:
        records = records.filter(reason_id__in=reason_ids)
    latest = {}
    for record in records.order_by("account_id", "churned_on"):
        latest[record.account_id] = record
    bands = set(campaign.value_bands or [])
    return [r for r in latest.values() if not bands or conf.value_band(r.mrr_lost) in bands]


@transaction.atomic
def campaign_enroll(*, campaign: Campaign, records: list[ChurnRecord] | None = None) -> int:
    """Enrol matching churned accounts once; accounts that asked not to be contacted are enrolled as suppressed."""
    records = campaign_candidates(campaign=campaign) if records is None else records
    suppressed = set(
        WinbackSuppression.objects.filter(account_id__in=[r.account_id for r in records]).values_list(
            "account_id", flat=True
        )
    )
    before = campaign.enrollments.count()
    CampaignEnrollment.objects.bulk_create(
        [
            CampaignEnrollment(
                campaign=campaign,
                churn_record=r,
                account_id=r.account_id,
                status=EnrollmentStatus.SUPPRESSED if r.account_id in suppressed else EnrollmentStatus.ENROLLED,
            )
            for r in records
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return campaign.enrollments.count() - before


def campaign_message(campaign: Campaign) -> tuple[str, str]:
    """Subject and body of a campaign's email; the body always names the reason the customer left."""
    body = campaign.body
    if "churn.reason" not in body:
        body = texts.reason_lead() + "\n\n" + body
    return campaign.subject, body


def _winback_context(campaign: Campaign, record: ChurnRecord) -> dict:
    note = campaign.release_note
    with texts.customer_language():  # the email's text: the offer's label too
        offer = str(campaign.get_offer_display())
    what_changed = note.title if note else offer
    return {
        "churn": {
            "reason": (record.reason.label.lower() if record.reason else texts.no_reason()),
            "churned_on": record.churned_on,
            "competitor": record.competitor,
        },
        "winback": {
            "offer": offer,
            "what_changed": what_changed,
            "release_note_url": note.url if note else "",
            "discount_code": campaign.discount_code,
            "offer_line": texts.offer_line(
                campaign.offer, what_changed=what_changed, discount_code=campaign.discount_code
            ),
        },
    }


def _contact_for(account_ids: list[int]) -> dict[int, Contact]:
    contacts = Contact.objects.filter(account_id__in=account_ids).exclude(email="").order_by("-is_primary", "id")
    chosen: dict[int, Contact] = {}
    for c in contacts:
        chosen.setdefault(c.account_id, c)
    return chosen


def campaign_send(*, campaign: Campaign, now: dt.datetime | None = None) -> dict[str, int]:
    """Email every enrolled account once, naming its reason; suppressed or unsubscribed contacts are never mailed.

    Each attempt is a touchpoint (sent or suppressed with the reason), which reactivations are attributed to.
    """
    now = now or timezone.now()
    enrollments = list(
        campaign.enrollments.filter(status=EnrollmentStatus.ENROLLED).select_related(
            "churn_record__reason", "account__owner"
        )
    )
    suppressed_accounts = set(
        WinbackSuppression.objects.filter(account_id__in=[e.account_id for e in enrollments]).values_list(
            "account_id", flat=True
        )
    )
    contacts = _contact_for([e.account_id for e in enrollments])
    subject, body = campaign_message(campaign)
    counts = {"sent": 0, "suppressed": 0, "no_contact": 0}
    with translation.override(settings.LANGUAGE_CODE):  # stored for the team, not the request's
        label = gettext("%(campaign)s: email") % {"campaign": campaign.name}
    for enrollment in enrollments:
        contact = contacts.get(enrollment.account_id)
        touch = Touchpoint(
            account_id=enrollment.account_id,
            enrollment=enrollment,
            campaign=campaign,
            contact=contact,
            channel=TouchpointChannel.EMAIL,
            label=label,
            occurred_at=now,
        )
        if enrollment.account_id in suppressed_accounts:
            touch.status, touch.status_reason = TouchpointStatus.SUPPRESSED, "Account asked not to be contacted."
        elif contact is None:
            counts["no_contact"] += 1
            continue
        elif contact.unsubscribed:
            touch.status, touch.status_reason = TouchpointStatus.SUPPRESSED, "Contact unsubscribed."
        else:
            result = emailing.send(
                contact=contact,
                account=enrollment.account,
                subject=subject,
                body=body,
                source="winback",
                dedupe_key=f"winback:{campaign.pk}:{enrollment.pk}",
                extra=_winback_context(campaign, enrollment.churn_record),
            )
            touch.email_message_id = result.message_id
            if result.suppressed:
                touch.status, touch.status_reason = TouchpointStatus.SUPPRESSED, result.reason
        touch.save()
        sent = touch.status == TouchpointStatus.SENT
        counts["sent" if sent else "suppressed"] += 1
        enrollment.status = EnrollmentStatus.CONTACTED if sent else EnrollmentStatus.SUPPRESSED
        enrollment.save(update_fields=["status"])
    page_facts_refresh_soon()
    return counts


def campaign_create(
    *,
    name: str,
    offer: str,
    reason_codes: list[str],
    subject: str,
    body: str,
    value_bands: list[str] | None = None,
    discount_code: str = "",
    release_note: ReleaseNote | None = None,
    attribution_window_days: int = 60,
) -> Campaign:
    if offer not in Offer.values:
        raise ValueError(gettext("Unknown offer %(offer)r.") % {"offer": offer})
    if offer == Offer.DISCOUNT and not discount_code:
        raise ValueError(gettext("A discount campaign needs a discount code."))
    bands = value_bands or []
    if set(bands) - {"low", "mid", "high"}:
        raise ValueError(gettext("Value bands are low, mid and high."))
    reasons = list(ChurnReason.objects.filter(code__in=reason_codes))
    if len(reasons) != len(set(reason_codes)):
        raise ValueError(gettext("Unknown churn reason code."))
    campaign = Campaign.objects.create(
        name=name,
        offer=offer,
        subject=subject,
        body=body,
        value_bands=bands,
        discount_code=discount_code,
        release_note=release_note,
        attribution_window_days=attribution_window_days,
    )
    campaign.reasons.set(reasons)
    return campaign


@transaction.atomic
def release_note_create(*, title: str, body: str, url: str, reason_codes: list[str]) -> Campaign:
    """Write a release note and publish it (see `release_note_publish`)."""
    note = ReleaseNote.objects.create(title=title, body=body, url=url)
    return release_note_publish(note=note, reason_codes=reason_codes)


def release_note_publish(*, note: ReleaseNote, reason_codes: list[str], send: bool = True) -> Campaign:
    """Publish a release note tagged with the reasons it fixes: past churners with those reasons are enrolled
    in its "it's live" campaign (created once per note) and emailed."""
    with transaction.atomic():
        reasons = list(ChurnReason.objects.filter(code__in=reason_codes))
        note.reasons.set(reasons)
        # The campaign keeps the template's text of the day it was created (editing the template changes later ones).
        text = emailing.template_text(texts.RELEASE_NOTE_TEMPLATE)
        with translation.override(settings.LANGUAGE_CODE):  # the name is stored for the team
            name = gettext("It's live: %(title)s") % {"title": note.title}
        campaign = note.campaigns.first() or campaign_create(
            name=name,
            offer=Offer.FEATURE_LIVE,
            reason_codes=[r.code for r in reasons],
            subject=text.subject,
            body=text.body_text,
            release_note=note,
        )
        campaign_enroll(campaign=campaign)
    if send:
        campaign_send(campaign=campaign)
    return campaign


def suppression_add(*, account: Account, reason: str = "", actor: AbstractBaseUser | None = None):
    """The account asked not to be contacted: no campaign reaches it from now on."""
    if actor is not None and not can_edit_account(actor, account):
        raise PermissionDenied(gettext("You can only change the accounts you own."))
    suppression, _ = WinbackSuppression.objects.get_or_create(
        account=account, defaults={"reason": reason, "created_by": actor}
    )
    CampaignEnrollment.objects.filter(account=account, status=EnrollmentStatus.ENROLLED).update(
        status=EnrollmentStatus.SUPPRESSED
    )
    return suppression


def reminder_days(segment: str) -> list[int]:
    """The 30/60/90-day reminder offsets scaled by account size (segment)."""
    scale = conf.get("REMINDER_SCALE").get(segment, 1.0)
    return [max(1, round(days * scale)) for days in conf.get("REMINDER_DAYS")]


def _reminder_texts(record: ChurnRecord, *, days: int, step: int, steps: int) -> tuple[str, str, str]:
    """The CSM reminder task's title and description and its touchpoint's label, in the active language (callers
    activate the installation's: the texts are stored for the team)."""
    names = {
        "days": days,
        "reason": record.reason.label.lower() if record.reason else gettext("an unknown reason"),
        "account": record.account.name,
        "day": date_format(record.churned_on, "DATE_FORMAT"),
        "churn_type": record.get_churn_type_display(),
        "mrr": money(record.mrr_lost, 2),
    }
    title = ngettext(
        "Win-back check-in (%(days)s day after churn): left over %(reason)s",
        "Win-back check-in (%(days)s days after churn): left over %(reason)s",
        days,
    )
    description = gettext(
        "%(account)s churned on %(day)s (%(churn_type)s, %(mrr)s MRR). "
        "Call and ask whether what made them leave has changed."
    )
    label = gettext("CSM check-in %(step)s of %(steps)s") % {"step": step, "steps": steps}
    return title % names, description % names, label


def csm_reminders_create(*, today: dt.date | None = None) -> int:
    """Create the CSM reminder tasks that fall due (once per step) for churned accounts not yet won back."""
    today = today or timezone.localdate()
    grace = dt.timedelta(days=conf.get("REMINDER_GRACE_DAYS"))
    longest = max(conf.get("REMINDER_DAYS"))
    records = (
        ChurnRecord.objects.filter(won_back_on__isnull=True, churned_on__gte=today - dt.timedelta(days=longest) - grace)
        .exclude(churn_type=ChurnType.DOWNGRADE)
        .exclude(account__winback_suppression__isnull=False)
        .select_related("account", "account__owner", "reason")
    )
    done = set(CsmReminder.objects.filter(churn_record__in=records).values_list("churn_record_id", "step"))
    created = 0
    for record in records:
        offsets = reminder_days(record.account.segment)
        for step, days in enumerate(offsets, start=1):
            due = record.churned_on + dt.timedelta(days=days)
            if (record.pk, step) in done or not (today - grace <= due <= today):
                continue
            with translation.override(settings.LANGUAGE_CODE):  # stored for the team, not the request's
                title, description, label = _reminder_texts(record, days=days, step=step, steps=len(offsets))
            with transaction.atomic():
                task = account_services.task_create(
                    account=record.account,
                    title=title,
                    description=description,
                    created_by=None,
                    due_date=due,
                    priority=TaskPriority.HIGH if conf.value_band(record.mrr_lost) == "high" else TaskPriority.NORMAL,
                    source=TaskSource.WINBACK,
                )
                CsmReminder.objects.create(churn_record=record, step=step, due_on=due, task=task)
                Touchpoint.objects.create(
                    account=record.account,
                    channel=TouchpointChannel.TASK,
                    label=label,
                    occurred_at=timezone.now(),
                )
            created += 1
    return created


def touchpoints_sync_responses() -> int:
    """A campaign email the contact clicked is a response: copy the click time from the outbox to the touchpoint."""
    pending = dict(
        Touchpoint.objects.filter(
            channel=TouchpointChannel.EMAIL, responded_at__isnull=True, email_message_id__isnull=False
        ).values_list("email_message_id", "pk")
    )
    if not pending:
        return 0
    clicked = email_outbox().filter(pk__in=list(pending), clicked_at__isnull=False).values_list("pk", "clicked_at")
    updated = 0
    for message_id, clicked_at in clicked:
        updated += Touchpoint.objects.filter(pk=pending[message_id], responded_at__isnull=True).update(
            status=TouchpointStatus.RESPONDED, responded_at=clicked_at
        )
    return updated
