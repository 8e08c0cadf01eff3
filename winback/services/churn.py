"""Churn capture: churn records from subscriptions, Stripe events, the cancel form and the API; reactivations."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts import services as account_services
from accounts.models import Account, AccountStatus, InboundWebhookEvent, Subscription
from accounts.selectors import account_mrr_on
from churnapp import hooks
from churnapp.roles import can_edit_account
from winback import conf
from winback.classify import SubRow, churn_events, classify_stripe_event
from winback.models import (
    CampaignEnrollment,
    ChurnReason,
    ChurnRecord,
    ChurnSource,
    ChurnType,
    EnrollmentStatus,
    Reactivation,
    Touchpoint,
    TouchpointStatus,
)
from winback.services.page_figures import page_facts_refresh_soon

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def _reason(code: str) -> ChurnReason | None:
    if not code:
        return None
    return ChurnReason.objects.filter(code=code).first()


def _reasons_by_code() -> dict[str, ChurnReason]:
    return {r.code: r for r in ChurnReason.objects.all()}


@transaction.atomic
def churn_record_create(
    *,
    account: Account,
    churn_type: str,
    reason_code: str,
    churned_on: dt.date,
    source: str,
    competitor: str = "",
    comment: str = "",
    mrr_lost: Decimal | None = None,
    created_by: AbstractBaseUser | None = None,
    source_ref: str = "",
) -> tuple[ChurnRecord, bool]:
    """Record a departure (idempotent per account and day); returns (record, created).

    A second capture of the same departure (say the cancel form, then the subscription ending) fills in what the
    first one left empty instead of adding a row.
    """
    if churn_type not in ChurnType.values:
        raise ValueError(gettext("Unknown churn type %(churn_type)r.") % {"churn_type": churn_type})
    reason = _reason(reason_code)
    if reason_code and reason is None:
        raise ValueError(gettext("Unknown churn reason %(reason)r.") % {"reason": reason_code})
    if mrr_lost is None:
        mrr_lost = account_mrr_on(day=churned_on - dt.timedelta(days=1), account_ids=[account.pk]).get(
            account.pk, Decimal("0")
        )
    record, created = ChurnRecord.objects.get_or_create(
        account=account,
        churned_on=churned_on,
        defaults={
            "churn_type": churn_type,
            "reason": reason,
            "competitor": competitor,
            "comment": comment,
            "mrr_lost": mrr_lost,
            "source": source,
            "source_ref": source_ref,
            "created_by": created_by,
        },
    )
    if created:
        _emit_recorded([record])
    else:
        # Enrich, never erase: a specific reason replaces none or "other"; a billing event, the form or the API
        # knows the type better than a bare subscription end does.
        changed = []
        if reason is not None and (record.reason is None or record.reason.code == "other"):
            record.reason = reason
            changed.append("reason")
        for field, value in (("competitor", competitor), ("comment", comment), ("source_ref", source_ref)):
            if value and not getattr(record, field):
                setattr(record, field, value)
                changed.append(field)
        if record.source == ChurnSource.SUBSCRIPTIONS and source != record.source and churn_type != record.churn_type:
            record.churn_type = churn_type
            changed.append("churn_type")
        if changed:
            record.save(update_fields=changed)
    return record, created


@transaction.atomic
def account_cancel(
    *,
    account: Account,
    reason_code: str,
    actor: AbstractBaseUser | None,
    effective_on: dt.date | None = None,
    churn_type: str = ChurnType.VOLUNTARY,
    competitor: str = "",
    comment: str = "",
    source: str = ChurnSource.FORM,
) -> ChurnRecord:
    """The cancel form and API: end the account's open subscriptions on the effective date and record why.

    The status turns churned at once when the date is today or past; a future date is picked up by the
    snapshot task on that day (the subscriptions end then).
    """
    today = timezone.localdate()
    effective_on = effective_on or today
    mrr_lost = account_mrr_on(day=min(effective_on, today), account_ids=[account.pk]).get(account.pk, Decimal("0"))
    account_services.subscriptions_cancel(account=account, end_date=effective_on, reason=reason_code, actor=actor)
    record, _ = churn_record_create(
        account=account,
        churn_type=churn_type,
        reason_code=reason_code,
        churned_on=effective_on,
        source=source,
        competitor=competitor,
        comment=comment,
        mrr_lost=mrr_lost,
        created_by=actor,
    )
    if effective_on <= today:
        account_services.account_set_status(account=account, status=AccountStatus.CHURNED, actor=actor)
    page_facts_refresh_soon()
    return record


@transaction.atomic
def account_pause(
    *,
    account: Account,
    resume_on: dt.date,
    actor: AbstractBaseUser | None,
    start_on: dt.date | None = None,
    reason_code: str = "",
    comment: str = "",
) -> int:
    """Pause instead of cancel (the cancel form and API): no churn record, no MRR while paused, resumes by itself.

    Raises ValueError for a pause that starts in the past, is not after its start, is longer than PAUSE_MAX_DAYS,
    or finds nothing active to pause. The reason the customer gave (if any) is kept on the timeline.
    """
    if actor is not None and not can_edit_account(actor, account):
        raise PermissionDenied(gettext("You can only pause the accounts you own."))
    today = timezone.localdate()
    start_on = start_on or today
    if start_on < today:
        raise ValueError(gettext("A pause starts today or later."))
    max_days = conf.get("PAUSE_MAX_DAYS")
    if (resume_on - start_on).days > max_days:
        raise ValueError(gettext("A pause lasts at most %(days)s days.") % {"days": max_days})
    paused = account_services.subscriptions_pause(
        account=account, start_date=start_on, resume_date=resume_on, actor=actor
    )
    reason = _reason(reason_code) if reason_code else None
    body = "\n".join(
        line
        for line in (
            f"Paused {start_on:%Y-%m-%d} instead of cancelling; resumes {resume_on:%Y-%m-%d}.",
            f"Reason given: {reason.label}." if reason else "",
            comment.strip(),
        )
        if line
    )
    account_services.activity_create(account=account, author=actor, subject="Paused instead of cancelling", body=body)
    return paused


def _histories(*, account_ids: list[int] | None) -> dict[int, list[SubRow]]:
    subs = Subscription.objects.order_by()
    if account_ids is not None:
        subs = subs.filter(account_id__in=account_ids)
    rows = subs.values_list("account_id", "id", "start_date", "end_date", "mrr", "status", "cancellation_reason")
    histories: dict[int, list[SubRow]] = defaultdict(list)
    for account_id, pk, start, end, mrr, status, reason in rows.iterator(chunk_size=5000):
        histories[account_id].append(SubRow(start=start, end=end, mrr=mrr, status=status, reason=reason, id=pk))
    return histories


def _emit_recorded(records: list[ChurnRecord]) -> None:
    """`churn.recorded` for each new departure (an enriched existing record is not a new one)."""
    if not records or not hooks.wanted(hooks.CHURN_RECORDED):
        return
    external = dict(Account.objects.filter(pk__in={r.account_id for r in records}).values_list("pk", "external_id"))
    payloads = [
        {
            "account_id": r.account_id,
            "external_id": external.get(r.account_id, ""),
            "churned_on": r.churned_on.isoformat(),
            "churn_type": r.churn_type,
            "reason": r.reason.code if r.reason else "",
            "mrr_lost": str(r.mrr_lost),
            "source": r.source,
        }
        for r in records
    ]
    hooks.notify(hooks.CHURN_RECORDED, payloads)


def churn_capture_from_subscriptions(*, today: dt.date | None = None, since: dt.date | None = None) -> dict[str, int]:
    """Create churn records (and reactivations) for every departure in subscription histories, idempotently.

    `since` limits the work to accounts whose subscriptions started or ended on or after that day (the beat task
    looks back a week); without it the whole history is read, which is the backfill over past data.
    """
    today = today or timezone.localdate()
    account_ids = None
    if since is not None:
        account_ids = list(
            Subscription.objects.filter(Q(end_date__gte=since, end_date__lte=today) | Q(start_date__gte=since))
            .values_list("account_id", flat=True)
            .distinct()
        )
    histories = _histories(account_ids=account_ids)
    reasons = _reasons_by_code()
    involuntary = frozenset(code for code, r in reasons.items() if r.is_involuntary)
    existing = {
        (a, d): pk
        for pk, a, d in ChurnRecord.objects.filter(account_id__in=list(histories)).values_list(
            "pk", "account_id", "churned_on"
        )
    }
    found: list[tuple[int, object]] = []
    new_records = []
    for account_id, rows in histories.items():
        for event in churn_events(rows, today=today, involuntary_codes=involuntary):
            found.append((account_id, event))
            if (account_id, event.on) in existing:
                continue
            reason = reasons.get(event.reason_code) or (reasons.get("other") if event.reason_code else None)
            new_records.append(
                ChurnRecord(
                    account_id=account_id,
                    churn_type=event.churn_type,
                    reason=reason,
                    mrr_lost=event.mrr_lost,
                    churned_on=event.on,
                    source=ChurnSource.SUBSCRIPTIONS,
                )
            )
    ChurnRecord.objects.bulk_create(new_records, batch_size=1000, ignore_conflicts=True)
    _emit_recorded(new_records)
    reactivated = reactivations_detect(account_ids=list({a for a, e in found if e.reactivated_on}), today=today)
    return {"accounts": len(histories), "churn_records": len(new_records), "reactivations": reactivated}


def churn_capture_from_stripe_event(*, account: Account, event: dict) -> ChurnRecord | None:
    """Record the departure a Stripe event describes; a pause (or an unrelated event) records nothing."""
    result = classify_stripe_event(event)
    if result is None or result.kind != "churn":
        return None
    record, _ = churn_record_create(
        account=account,
        churn_type=result.churn_type,
        reason_code=result.reason_code,
        churned_on=result.on or timezone.localdate(),
        source=ChurnSource.STRIPE,
        comment=result.comment,
        mrr_lost=result.mrr_lost,
        source_ref=str(event.get("id", "")),
    )
    return record


def churn_capture_from_webhooks(*, since: dt.datetime | None = None) -> int:
    """Classify stored Stripe webhook deliveries (accounts.InboundWebhookEvent) received since `since`."""
    since = since or timezone.now() - dt.timedelta(days=7)
    events = InboundWebhookEvent.objects.filter(
        source="stripe", account__isnull=False, received_at__gte=since, type__startswith="customer.subscription."
    ).select_related("account")
    return sum(1 for e in events if churn_capture_from_stripe_event(account=e.account, event=e.payload) is not None)


def _attribute(*, account_id: int, on: dt.date) -> Touchpoint | None:
    """The last touchpoint that reached the account within its attribution window before `on`."""
    default_window = conf.get("ATTRIBUTION_WINDOW_DAYS")
    latest_window = dt.timedelta(days=max(default_window, 365))
    candidates = (
        Touchpoint.objects.filter(
            account_id=account_id,
            occurred_at__date__lte=on,
            occurred_at__date__gte=on - latest_window,
        )
        .exclude(status=TouchpointStatus.SUPPRESSED)
        .select_related("campaign")
        .order_by("-occurred_at", "-id")
    )
    for touchpoint in candidates:
        window = touchpoint.campaign.attribution_window_days if touchpoint.campaign else default_window
        if touchpoint.occurred_at.date() >= on - dt.timedelta(days=window):
            return touchpoint
    return None


@transaction.atomic
def reactivations_detect(*, account_ids: list[int] | None = None, today: dt.date | None = None) -> int:
    """A churned account with a new subscription is won back: record it, attribute it, set the status.

    Builds on facts (a subscription starting on or after the churn date), so it agrees with the snapshot task's
    won-back status, and it is idempotent (one reactivation per churn record).
    """
    today = today or timezone.localdate()
    open_records = ChurnRecord.objects.filter(reactivation__isnull=True).exclude(churn_type=ChurnType.DOWNGRADE)
    if account_ids is not None:
        open_records = open_records.filter(account_id__in=account_ids)
    records = list(open_records.order_by("account_id", "churned_on"))
    if not records:
        return 0
    subs: dict[int, list[Subscription]] = defaultdict(list)
    for sub in Subscription.objects.filter(
        account_id__in={r.account_id for r in records}, start_date__lte=today
    ).order_by("account_id", "start_date", "id"):
        subs[sub.account_id].append(sub)
    created, active_again = 0, set()
    for record in records:
        history = subs.get(record.account_id, [])
        comeback = next((s for s in history if s.start_date >= record.churned_on), None)
        if comeback is None:
            continue
        back_on = comeback.start_date
        touchpoint = _attribute(account_id=record.account_id, on=back_on)
        Reactivation.objects.create(
            churn_record=record,
            account_id=record.account_id,
            subscription=comeback,
            reactivated_on=back_on,
            mrr_won_back=sum((s.mrr for s in history if s.is_active_on(back_on)), Decimal("0")),
            touchpoint=touchpoint,
            campaign=touchpoint.campaign if touchpoint else None,
        )
        record.won_back_on = back_on
        record.save(update_fields=["won_back_on"])
        if touchpoint is not None:
            Touchpoint.objects.filter(pk=touchpoint.pk, responded_at__isnull=True).update(
                status=TouchpointStatus.RESPONDED, responded_at=timezone.now()
            )
            if touchpoint.enrollment_id:
                CampaignEnrollment.objects.filter(pk=touchpoint.enrollment_id).update(status=EnrollmentStatus.CONVERTED)
        if any(s.is_active_on(today) for s in history):
            active_again.add(record.account_id)
        created += 1
    for account in Account.objects.filter(pk__in=active_again, status=AccountStatus.CHURNED):
        account_services.account_set_status(account=account, status=AccountStatus.WON_BACK, actor=None)
    return created
