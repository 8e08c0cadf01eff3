"""The accounts snapshot: each account's cached MRR, seats, renewal date and subscription-driven status."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.change_text import FIELD_LABELS
from accounts.models import Account, AccountStatus, Activity, ActivityKind, Subscription
from accounts.rates import IN_REPORTING_CURRENCY, foreign_mrr_on
from accounts.selectors import active_on_q, next_renewal_dates
from accounts.services._common import data_label
from audit.capture import Change, record_changes
from audit.models import Action
from churnapp import hooks


def _renewal_dates_write(*, today: dt.date) -> None:
    """Cache each active account's next renewal (selectors.next_renewal_dates); accounts without an active
    subscription keep the date they had (the renewal they missed), as before."""
    renewals = next_renewal_dates(day=today)
    moved = [
        (pk, current)
        for pk, current in Account.objects.values_list("pk", "renewal_date").iterator(chunk_size=5000)
        if pk in renewals and current != renewals[pk]
    ]
    Account.objects.bulk_update(
        [Account(pk=pk, renewal_date=renewals[pk]) for pk, _ in moved], ["renewal_date"], batch_size=1000
    )
    record_changes(Account, [Change(pk, Action.UPDATE, {"renewal_date": (old, renewals[pk])}, pk) for pk, old in moved])


@transaction.atomic
def account_refresh_snapshots(*, today: dt.date | None = None) -> dict[str, int]:
    """Recompute every account's cached MRR, seats, renewal date and subscription-driven status, set-based.

    Status follows the facts: an account whose subscriptions have all ended becomes churned; a churned
    account with an active subscription again becomes won back. Each status change is audited.
    """
    today = today or timezone.localdate()
    active = Subscription.objects.filter(active_on_q(today), account=OuterRef("pk")).order_by().values("account")
    mrr = active.filter(IN_REPORTING_CURRENCY).annotate(total=Sum("mrr")).values("total")
    seats = active.filter(units="seats").annotate(total=Sum("quantity")).values("total")
    updated = Account.objects.update(
        mrr=Coalesce(Subquery(mrr), Value(Decimal("0"))),
        seats=Coalesce(Subquery(seats, output_field=IntegerField()), Value(0)),
    )
    # Subscriptions priced in another currency: at today's rate, added to the few accounts holding one.
    foreign = foreign_mrr_on([today])[today]
    if foreign:
        accounts = list(Account.objects.filter(pk__in=foreign).only("pk", "mrr"))
        for account in accounts:
            account.mrr += foreign[account.pk]
        Account.objects.bulk_update(accounts, ["mrr"], batch_size=1000)
    _renewal_dates_write(today=today)

    has_active = Exists(Subscription.objects.filter(active_on_q(today), account=OuterRef("pk")))
    has_any = Exists(Subscription.objects.filter(account=OuterRef("pk"), start_date__lte=today))
    churned = list(
        Account.objects.filter(has_any, ~has_active).exclude(status=AccountStatus.CHURNED).values_list("pk", "status")
    )
    won_back = list(Account.objects.filter(has_active, status=AccountStatus.CHURNED).values_list("pk", "status"))
    labels = {value: data_label(AccountStatus, value) for value in AccountStatus.values}
    # The stored sentence is in the installation's language (the timeline rewrites it from the details for readers).
    with translation.override(settings.LANGUAGE_CODE):
        changed, field = gettext("%(field)s changed from %(old)s to %(new)s"), str(FIELD_LABELS["status"])
        said = {value: str(label) for value, label in AccountStatus.choices}
    entries = [
        Activity(
            account_id=pk,
            kind=ActivityKind.CHANGE,
            subject=changed % {"field": field, "old": said[old], "new": said[new]},
            details={"field": "status", "old": labels[old], "new": labels[new], "reason": "subscriptions"},
        )
        for rows, new in ((churned, AccountStatus.CHURNED), (won_back, AccountStatus.WON_BACK))
        for pk, old in rows
    ]
    Activity.objects.bulk_create(entries, batch_size=1000)
    now = timezone.now()
    Account.objects.filter(pk__in=[pk for pk, _ in churned]).update(status=AccountStatus.CHURNED, updated_at=now)
    Account.objects.filter(pk__in=[pk for pk, _ in won_back]).update(status=AccountStatus.WON_BACK, updated_at=now)
    record_changes(
        Account,
        [
            Change(pk, Action.UPDATE, {"status": (old, new)}, pk)
            for rows, new in ((churned, AccountStatus.CHURNED), (won_back, AccountStatus.WON_BACK))
            for pk, old in rows
        ],
    )
    hooks.notify(
        hooks.ACCOUNT_STATUS_CHANGED,
        [
            {"account_id": pk, "old": old, "new": new, "reason": "subscriptions"}
            for rows, new in ((churned, AccountStatus.CHURNED), (won_back, AccountStatus.WON_BACK))
            for pk, old in rows
        ],
    )
    return {"accounts": updated, "churned": len(churned), "won_back": len(won_back)}
