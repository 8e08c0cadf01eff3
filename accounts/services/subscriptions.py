"""Changing an account's subscriptions: cancelling them, pausing them (no MRR, no churn) and resuming a pause."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Account, Subscription, SubscriptionStatus
from accounts.selectors import active_on_q
from accounts.services._common import change_entry, ensure_can_edit
from audit.capture import record_objects, update_recorded
from churnapp import hooks

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@transaction.atomic
def subscriptions_cancel(*, account: Account, end_date: dt.date, reason: str, actor: AbstractBaseUser | None) -> int:
    """End the account's subscriptions still open at `end_date` on that date (a cancellation), with the reason.

    Returns how many subscriptions were ended. Paused subscriptions end too, and the resumption a pause had
    scheduled is dropped: a cancellation is not a pause.
    """
    ensure_can_edit(actor, account)
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
    return update_recorded(
        still_open, end_date=end_date, status=SubscriptionStatus.CANCELED, cancellation_reason=reason[:64]
    )


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
    ensure_can_edit(actor, account)
    if resume_date <= start_date:
        raise ValueError(_("The resume date must be after the pause starts."))
    rows = list(
        Subscription.objects.select_for_update()
        .filter(account=account)
        .filter(active_on_q(start_date))
        .exclude(status=SubscriptionStatus.PAUSED)
    )
    if not rows:
        raise ValueError(_("There is no active subscription to pause on that date."))
    if (
        Subscription.objects.filter(account=account, status=SubscriptionStatus.PAUSED, start_date__lt=resume_date)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=start_date))
        .exists()
    ):
        raise ValueError(_("The account is already paused then."))
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
                    **common,
                    mrr=row.mrr,
                    currency=row.currency,
                    original_mrr=row.original_mrr,
                    exchange_rate=row.exchange_rate,
                    start_date=resume_date,
                    end_date=old_end,
                    status=SubscriptionStatus.ACTIVE,
                )
            )
        if row.start_date < start_date:
            row.end_date = start_date
            row.save(update_fields=["end_date"])
        else:  # starts on the pause day: the paused row takes its place
            row.delete()
    Subscription.objects.bulk_create(created)
    record_objects(Subscription, created=created)
    hooks.notify(hooks.FACTS_CHANGED, [account.pk])
    change_entry(
        account=account, actor=actor, field="subscriptions", old="active", new=f"paused until {resume_date:%Y-%m-%d}"
    ).save()
    return len(rows)


@transaction.atomic
def subscriptions_resume(*, account: Account, on: dt.date, actor: AbstractBaseUser | None) -> int:
    """End a pause early: the paused rows open at `on` end then and the rows scheduled to resume start then.

    Returns how many subscriptions resumed (0 when the account is not paused on that day).
    """
    ensure_can_edit(actor, account)
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
        hooks.notify(hooks.FACTS_CHANGED, [account.pk])
    if resumed:
        change_entry(account=account, actor=actor, field="subscriptions", old="paused", new="active").save()
    return resumed
