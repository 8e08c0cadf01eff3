"""Pure churn classification: from subscription histories and from Stripe events. No database access here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

# Stripe's cancellation_details.feedback values → our reason codes.
STRIPE_FEEDBACK_REASON = {
    "too_expensive": "price",
    "missing_features": "missing_feature",
    "switched_service": "competitor",
    "unused": "product_fit",
    "customer_service": "support",
    "too_complex": "onboarding",
    "low_quality": "product_fit",
    "other": "other",
}
INVOLUNTARY_STRIPE_REASONS = {"payment_failed", "payment_disputed"}
# Stripe writes its own cancellation_details.reason into Subscription.cancellation_reason (accounts' webhook);
# read as our codes. "cancellation_requested" says nothing about why: the feedback in the event does.
SUBSCRIPTION_REASON_ALIASES = {
    "payment_failed": "payment_failure",
    "payment_disputed": "payment_failure",
    "cancellation_requested": "",
}


@dataclass(frozen=True)
class SubRow:
    """The part of a subscription the classification needs."""

    start: dt.date
    end: dt.date | None
    mrr: Decimal
    status: str = "active"
    reason: str = ""
    id: int | None = None


@dataclass
class ChurnEvent:
    """A departure found in a history: the account had coverage the day before `on` and none on `on`."""

    on: dt.date
    churn_type: str
    reason_code: str
    mrr_lost: Decimal
    reactivated_on: dt.date | None = None
    reactivation_mrr: Decimal = Decimal("0")
    reactivation_sub_id: int | None = None
    extra: dict = field(default_factory=dict)


def _mrr_on(rows: list[SubRow], day: dt.date) -> Decimal:
    return sum((r.mrr for r in rows if r.start <= day and (r.end is None or r.end > day)), Decimal("0"))


def churn_events(
    rows: list[SubRow], *, today: dt.date, involuntary_codes: frozenset[str] = frozenset({"payment_failure"})
) -> list[ChurnEvent]:
    """Departures of one account from its subscription rows, up to `today`.

    Coverage is the union of [start, end) intervals; consecutive rows (end == next start) and paused rows keep it
    unbroken, so a pause is never churn. Each end of coverage on or before `today` is a churn: its reason is the
    `cancellation_reason` of the rows ending then; a failed payment makes it involuntary. A row that ends with a
    reason while coverage continues at a lower MRR is a downgrade. A later coverage start is the reactivation.
    """
    rows = sorted(rows, key=lambda r: (r.start, r.end or dt.date.max))
    periods: list[list] = []  # [start, end|None]
    for r in rows:
        if periods and (periods[-1][1] is None or r.start <= periods[-1][1]):
            if periods[-1][1] is not None and (r.end is None or r.end > periods[-1][1]):
                periods[-1][1] = r.end
        else:
            periods.append([r.start, r.end])
    events: list[ChurnEvent] = []
    for i, (_start, end) in enumerate(periods):
        if end is None or end > today:
            continue
        ending = [r for r in rows if r.end == end]
        reasons = [SUBSCRIPTION_REASON_ALIASES.get(r.reason, r.reason) for r in ending]
        reasons = [code for code in reasons if code]
        reason = min(set(reasons), key=lambda code: (-reasons.count(code), code)) if reasons else ""
        churn_type = (
            "involuntary" if reason in involuntary_codes or any(r.status == "past_due" for r in ending) else "voluntary"
        )
        event = ChurnEvent(
            on=end, churn_type=churn_type, reason_code=reason, mrr_lost=_mrr_on(rows, end - dt.timedelta(days=1))
        )
        if i + 1 < len(periods) and periods[i + 1][0] <= today:
            back = periods[i + 1][0]
            event.reactivated_on = back
            event.reactivation_mrr = _mrr_on(rows, back)
            event.reactivation_sub_id = next((r.id for r in rows if r.start == back), None)
        events.append(event)
    # Downgrades: a row ending with a reason while the account stays covered, at a lower MRR.
    churn_days = {e.on for e in events}
    for r in rows:
        reason = SUBSCRIPTION_REASON_ALIASES.get(r.reason, r.reason)
        if r.end is None or r.end > today or not reason or r.end in churn_days:
            continue
        before, after = _mrr_on(rows, r.end - dt.timedelta(days=1)), _mrr_on(rows, r.end)
        if after > 0 and after < before:
            events.append(ChurnEvent(on=r.end, churn_type="downgrade", reason_code=reason, mrr_lost=before - after))
            churn_days.add(r.end)
    return sorted(events, key=lambda e: e.on)


@dataclass(frozen=True)
class StripeChurn:
    """What a Stripe event says about churn: a departure (voluntary/involuntary/downgrade) or a pause (not churn)."""

    kind: str  # "churn" or "paused"
    churn_type: str = ""
    reason_code: str = ""
    comment: str = ""
    mrr_lost: Decimal = Decimal("0")
    on: dt.date | None = None


def _amount(obj: dict) -> Decimal:
    """Monthly amount of a Stripe subscription object (plan or first price), in currency units."""
    plan = obj.get("plan") or {}
    items = ((obj.get("items") or {}).get("data")) or []
    price = plan or (items[0].get("price") if items else {}) or {}
    cents = price.get("amount", price.get("unit_amount")) or 0
    quantity = obj.get("quantity") or (items[0].get("quantity") if items else 1) or 1
    interval = price.get("interval") or (price.get("recurring") or {}).get("interval") or "month"
    months = 12 if interval == "year" else 1
    return (Decimal(cents) * Decimal(quantity) / Decimal(100) / months).quantize(Decimal("0.01"))


def classify_stripe_event(event: dict) -> StripeChurn | None:
    """Classify a Stripe webhook event: subscription deleted → churn, paused → pause, price lowered → downgrade."""
    kind = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    previous = (event.get("data") or {}).get("previous_attributes") or {}
    when = obj.get("ended_at") or obj.get("canceled_at") or event.get("created")
    on = dt.datetime.fromtimestamp(when, tz=dt.UTC).date() if when else None
    if kind == "customer.subscription.paused" or (
        kind == "customer.subscription.updated" and (obj.get("status") == "paused" or obj.get("pause_collection"))
    ):
        return StripeChurn(kind="paused", on=on)
    if kind == "customer.subscription.deleted":
        details = obj.get("cancellation_details") or {}
        if details.get("reason") in INVOLUNTARY_STRIPE_REASONS:
            return StripeChurn(
                kind="churn", churn_type="involuntary", reason_code="payment_failure", mrr_lost=_amount(obj), on=on
            )
        return StripeChurn(
            kind="churn",
            churn_type="voluntary",
            reason_code=STRIPE_FEEDBACK_REASON.get(details.get("feedback") or "", ""),
            comment=details.get("comment") or "",
            mrr_lost=_amount(obj),
            on=on,
        )
    changed = {"plan", "items", "quantity"} & set(previous)
    if kind == "customer.subscription.updated" and changed:
        before, after = _amount({**obj, **previous}), _amount(obj)
        if after < before:
            created = event.get("created")
            feedback = (obj.get("cancellation_details") or {}).get("feedback") or ""
            return StripeChurn(
                kind="churn",
                churn_type="downgrade",
                reason_code=STRIPE_FEEDBACK_REASON.get(feedback, "price"),
                mrr_lost=before - after,
                on=dt.datetime.fromtimestamp(created, tz=dt.UTC).date() if created else on,
            )
    return None
