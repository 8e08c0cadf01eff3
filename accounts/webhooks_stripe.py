"""Stripe billing events → subscriptions and payment facts on accounts (services; the view is accounts.webhooks).

Handled: customer.subscription.created / updated / deleted (incl. paused), invoice.payment_failed,
invoice.paid (and invoice.payment_succeeded), customer.source.expiring. Everything else is recorded as ignored.
Idempotent on the Stripe event id. A customer no account knows yet is recorded as "unmatched" and replayed when an
account gets that `billing_customer_id` (or a subscription's `metadata.account_id` names the account).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import (
    Account,
    BillingEvent,
    BillingEventKind,
    InboundWebhookEvent,
    InboundWebhookStatus,
    Subscription,
    SubscriptionStatus,
)
from accounts.rates import NoRate, Rates
from audit.capture import update_recorded
from audit.context import Actor, acting
from audit.models import ActorKind
from churnapp import hooks

SOURCE = "stripe"
STATUS_MAP = {
    "active": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.TRIALING,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.PAUSED,
    "canceled": SubscriptionStatus.CANCELED,
    "incomplete": SubscriptionStatus.TRIALING,
    "incomplete_expired": SubscriptionStatus.CANCELED,
}
MONTHS_PER = {"day": Decimal(1) / 30, "week": Decimal(7) / 30, "month": Decimal(1), "year": Decimal(12)}


def _date(timestamp: int | None) -> dt.date | None:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).date() if timestamp else None


def _when(timestamp: int | None) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC) if timestamp else timezone.now()


def _customer_id(obj: dict) -> str:
    customer = obj.get("customer")
    return customer.get("id", "") if isinstance(customer, dict) else (customer or "")


def _match_account(customer: str, obj: dict) -> Account | None:
    account = Account.objects.filter(billing_customer_id=customer).first() if customer else None
    if account is None:
        external_id = (obj.get("metadata") or {}).get("account_id")
        account = Account.objects.filter(external_id=external_id).first() if external_id else None
        if account is not None and customer and not account.billing_customer_id:
            update_recorded(Account.objects.filter(pk=account.pk), billing_customer_id=customer)
    return account


def _subscription_fields(obj: dict) -> dict:
    items = (obj.get("items") or {}).get("data") or []
    mrr = Decimal(0)
    quantity = 0
    period_months = 1
    product = ""
    for item in items:
        price = item.get("price") or item.get("plan") or {}
        recurring = price.get("recurring") or {"interval": price.get("interval"), "interval_count": 1}
        interval = recurring.get("interval") or "month"
        count = int(recurring.get("interval_count") or 1)
        months = MONTHS_PER.get(interval, Decimal(1)) * count
        qty = int(item.get("quantity") or 1)
        amount = Decimal(price.get("unit_amount") or price.get("amount") or 0) / 100
        mrr += amount * qty / months
        quantity += qty
        if not product:
            product_ref = price.get("product")
            product = price.get("nickname") or (
                product_ref.get("name") if isinstance(product_ref, dict) else product_ref
            )
            period_months = int(months) if months in (1, 3, 6, 12) else 1
    status = STATUS_MAP.get(obj.get("status", ""), SubscriptionStatus.ACTIVE)
    if obj.get("pause_collection"):
        status = SubscriptionStatus.PAUSED
    start = _date(obj.get("start_date") or obj.get("created")) or timezone.localdate()
    fields: dict[str, Any] = {
        "product": (product or "stripe")[:128],
        "mrr": mrr.quantize(Decimal("0.01")),
        "quantity": quantity or 1,
        "billing_period": period_months,
        "start_date": start,
        "status": status,
        "cancellation_reason": ((obj.get("cancellation_details") or {}).get("reason") or "")[:64],
    }
    ended = _date(obj.get("ended_at")) if obj.get("status") in ("canceled", "incomplete_expired") else None
    if ended is not None:
        fields["end_date"] = max(ended, start + dt.timedelta(days=1))
    return fields


class CurrencyMismatch(ValueError):
    """A subscription in a currency that cannot be converted: recorded as failed, never mixed in."""


def _converted(obj: dict, fields: dict) -> dict:
    """`fields` with the MRR in the reporting currency (converted with the rate valid on the start date)."""
    items = (obj.get("items") or {}).get("data") or []
    found = {str(obj.get("currency") or "").upper()} | {
        str((item.get("price") or item.get("plan") or {}).get("currency") or "").upper() for item in items
    }
    codes = sorted(found - {""})
    if len(codes) > 1:
        raise CurrencyMismatch(f"Subscription {obj.get('id', '')} mixes currencies ({', '.join(codes)}): not recorded.")
    code = codes[0] if codes else ""
    try:
        return {**fields, **Rates([code]).convert(code=code, amount=fields["mrr"], day=fields["start_date"])}
    except NoRate as exc:
        raise CurrencyMismatch(
            f"Subscription {obj.get('id', '')} is priced in {code}: {exc} It was not recorded."
        ) from exc


def _subscription_upsert(account: Account, obj: dict, *, deleted: bool) -> None:
    fields = _converted(obj, _subscription_fields(obj))
    if deleted:
        fields["status"] = SubscriptionStatus.CANCELED
        ended = _date(obj.get("ended_at") or obj.get("canceled_at")) or timezone.localdate()
        fields["end_date"] = max(ended, fields["start_date"] + dt.timedelta(days=1))
    Subscription.objects.update_or_create(external_id=obj["id"], defaults={"account": account, **fields})
    hooks.notify(hooks.FACTS_CHANGED, [account.pk])


def _billing_fact(account: Account, event: dict, kind: str, obj: dict) -> None:
    amount = obj.get("amount_due") if kind == BillingEventKind.PAYMENT_FAILED else obj.get("amount_paid")
    details = {k: obj.get(k) for k in ("id", "number", "attempt_count", "exp_month", "exp_year", "last4", "brand")}
    BillingEvent.objects.get_or_create(
        source_event_id=event["id"],
        defaults={
            "account": account,
            "kind": kind,
            "occurred_at": _when(event.get("created")),
            "amount": Decimal(amount) / 100 if amount is not None else None,
            "currency": (obj.get("currency") or "")[:8],
            "details": {k: v for k, v in details.items() if v is not None},
        },
    )
    if kind == BillingEventKind.PAYMENT_FAILED:
        update_recorded(Account.objects.filter(pk=account.pk), payment_failed_at=_when(event.get("created")))
    elif kind == BillingEventKind.PAYMENT_SUCCEEDED:
        update_recorded(Account.objects.filter(pk=account.pk), payment_failed_at=None)
    hooks.notify(hooks.FACTS_CHANGED, [account.pk])  # the rules see a failed payment at once


def _apply(event: dict) -> tuple[str, Account | None, str]:
    kind = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    customer = _customer_id(obj)
    handlers = {
        "customer.subscription.created": lambda a: _subscription_upsert(a, obj, deleted=False),
        "customer.subscription.updated": lambda a: _subscription_upsert(a, obj, deleted=False),
        "customer.subscription.paused": lambda a: _subscription_upsert(a, obj, deleted=False),
        "customer.subscription.resumed": lambda a: _subscription_upsert(a, obj, deleted=False),
        "customer.subscription.deleted": lambda a: _subscription_upsert(a, obj, deleted=True),
        "invoice.payment_failed": lambda a: _billing_fact(a, event, BillingEventKind.PAYMENT_FAILED, obj),
        "invoice.paid": lambda a: _billing_fact(a, event, BillingEventKind.PAYMENT_SUCCEEDED, obj),
        "invoice.payment_succeeded": lambda a: _billing_fact(a, event, BillingEventKind.PAYMENT_SUCCEEDED, obj),
        "customer.source.expiring": lambda a: _billing_fact(a, event, BillingEventKind.CARD_EXPIRING, obj),
    }
    if kind not in handlers:
        return InboundWebhookStatus.IGNORED, None, customer
    account = _match_account(customer, obj)
    if account is None:
        return InboundWebhookStatus.UNMATCHED, None, customer
    handlers[kind](account)
    return InboundWebhookStatus.PROCESSED, account, customer


@transaction.atomic
def stripe_event_process(*, event: dict) -> str:
    """Apply one verified Stripe event (idempotent). Returns processed / unmatched / ignored / duplicate."""
    record, created = InboundWebhookEvent.objects.select_for_update().get_or_create(
        source=SOURCE,
        event_id=event["id"],
        defaults={"type": event.get("type", "")[:128], "payload": event, "status": InboundWebhookStatus.FAILED},
    )
    if not created and record.status in (InboundWebhookStatus.PROCESSED, InboundWebhookStatus.IGNORED):
        return "duplicate"
    error = ""
    try:
        with transaction.atomic(), acting(actor=Actor(ActorKind.WEBHOOK, event["id"][:64], "Stripe")):
            status, account, customer = _apply(event)
    except CurrencyMismatch as exc:
        obj = (event.get("data") or {}).get("object") or {}
        status, account, customer, error = InboundWebhookStatus.FAILED, None, _customer_id(obj), str(exc)
    record.status, record.account, record.customer_ref = status, account, customer[:255]
    record.error, record.processed_at = error, timezone.now()
    record.save(update_fields=["status", "account", "customer_ref", "error", "processed_at"])
    return status


def stripe_event_error(*, event_id: str) -> str:
    """Why an event failed (e.g. a currency without a rate), as recorded."""
    record = InboundWebhookEvent.objects.filter(source=SOURCE, event_id=event_id).only("error").first()
    return record.error if record else ""


def stripe_unmatched_replay(*, customer_ids: list[str]) -> int:
    """Replay unmatched events of customers that an account now claims (oldest first); returns how many applied."""
    applied = 0
    pending = InboundWebhookEvent.objects.filter(
        source=SOURCE, status=InboundWebhookStatus.UNMATCHED, customer_ref__in=[c for c in customer_ids if c]
    ).order_by("received_at", "id")
    for record in pending:
        if stripe_event_process(event=record.payload) == InboundWebhookStatus.PROCESSED:
            applied += 1
    return applied
