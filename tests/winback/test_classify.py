"""Pure classification: departures from subscription histories and from Stripe events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from winback.classify import SubRow, churn_events, classify_stripe_event

D = dt.date
TODAY = D(2025, 6, 1)


def row(start, end, mrr="100", status="active", reason=""):
    return SubRow(start=start, end=end, mrr=Decimal(mrr), status=status, reason=reason)


def test_end_of_coverage_is_a_voluntary_churn_with_the_reason_and_mrr_lost():
    rows = [row(D(2024, 1, 1), D(2024, 6, 1)), row(D(2024, 6, 1), D(2025, 1, 1), "150", "canceled", "competitor")]
    [event] = churn_events(rows, today=TODAY)
    assert (event.on, event.churn_type, event.reason_code, event.mrr_lost) == (
        D(2025, 1, 1), "voluntary", "competitor", Decimal("150")
    )  # fmt: skip
    assert event.reactivated_on is None


def test_payment_failure_is_involuntary():
    [event] = churn_events([row(D(2024, 1, 1), D(2024, 9, 1), reason="payment_failure")], today=TODAY)
    assert event.churn_type == "involuntary"


def test_pause_is_not_churn():
    rows = [row(D(2024, 1, 1), D(2024, 9, 1)), row(D(2024, 9, 1), None, "0", "paused")]
    assert churn_events(rows, today=TODAY) == []


def test_consecutive_terms_and_addons_are_not_churn():
    rows = [row(D(2024, 1, 1), D(2024, 4, 1)), row(D(2024, 4, 1), None), row(D(2024, 2, 1), D(2024, 3, 1), "20")]
    assert churn_events(rows, today=TODAY) == []


def test_future_end_is_not_churn_yet():
    assert churn_events([row(D(2024, 1, 1), D(2025, 7, 1), reason="price")], today=TODAY) == []


def test_comeback_after_a_gap_is_the_reactivation():
    rows = [row(D(2024, 1, 1), D(2024, 6, 1), reason="price"), row(D(2024, 9, 1), None, "80")]
    [event] = churn_events(rows, today=TODAY)
    assert event.reactivated_on == D(2024, 9, 1)
    assert event.reactivation_mrr == Decimal("80")


def test_row_ending_with_a_reason_at_lower_mrr_is_a_downgrade():
    rows = [row(D(2024, 1, 1), D(2024, 6, 1), "300", "canceled", "price"), row(D(2024, 6, 1), None, "100")]
    [event] = churn_events(rows, today=TODAY)
    assert (event.churn_type, event.mrr_lost) == ("downgrade", Decimal("200"))


def _sub_event(kind, obj, previous=None):
    return {
        "id": "evt_1",
        "type": kind,
        "created": 1717200000,
        "data": {"object": obj, "previous_attributes": previous},
    }


def test_stripe_deleted_with_feedback_is_voluntary_with_mapped_reason():
    obj = {
        "ended_at": 1717200000,
        "plan": {"amount": 4900, "interval": "month"},
        "quantity": 2,
        "cancellation_details": {"reason": "cancellation_requested", "feedback": "too_expensive", "comment": "meh"},
    }
    result = classify_stripe_event(_sub_event("customer.subscription.deleted", obj))
    assert (result.kind, result.churn_type, result.reason_code, result.mrr_lost) == (
        "churn", "voluntary", "price", Decimal("98.00")
    )  # fmt: skip
    assert result.comment == "meh"
    assert result.on == D(2024, 6, 1)


def test_stripe_deleted_after_failed_payment_is_involuntary():
    obj = {"plan": {"amount": 120000, "interval": "year"}, "cancellation_details": {"reason": "payment_failed"}}
    result = classify_stripe_event(_sub_event("customer.subscription.deleted", obj))
    assert (result.churn_type, result.reason_code, result.mrr_lost) == (
        "involuntary",
        "payment_failure",
        Decimal("100.00"),
    )


def test_stripe_pause_is_not_churn():
    obj = {"status": "active", "pause_collection": {"behavior": "void"}, "plan": {"amount": 100}}
    assert classify_stripe_event(_sub_event("customer.subscription.updated", obj)).kind == "paused"
    assert classify_stripe_event(_sub_event("customer.subscription.paused", {"status": "paused"})).kind == "paused"


def test_stripe_price_decrease_is_a_downgrade():
    obj = {"plan": {"amount": 4900, "interval": "month"}, "quantity": 1}
    result = classify_stripe_event(
        _sub_event("customer.subscription.updated", obj, {"plan": {"amount": 14900, "interval": "month"}})
    )
    assert (result.churn_type, result.mrr_lost) == ("downgrade", Decimal("100.00"))


def test_unrelated_stripe_event_is_ignored():
    assert classify_stripe_event(_sub_event("invoice.paid", {})) is None
