from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal

import pytest
import stripe

from accounts.models import BillingEvent, ExchangeRate, InboundWebhookEvent, Subscription
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_secret"
START = int(dt.datetime(2024, 1, 15, tzinfo=dt.UTC).timestamp())


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def subscription_event(event_id: str, kind: str = "customer.subscription.created", **changes) -> dict:
    obj = {
        "id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active", "start_date": START,
        "metadata": {}, "pause_collection": None, "ended_at": None, "canceled_at": None,
        "items": {"data": [
            {"quantity": 5, "price": {"unit_amount": 2000, "nickname": "Growth", "product": "prod_1",
                                      "recurring": {"interval": "month", "interval_count": 1}}},
            {"quantity": 1, "price": {"unit_amount": 12000, "nickname": "SMS", "product": "prod_2",
                                      "recurring": {"interval": "year", "interval_count": 1}}},
        ]},
    }  # fmt: skip
    obj.update(changes)
    return {"id": event_id, "object": "event", "type": kind, "created": START + 60, "data": {"object": obj}}


def deliver(client, event: dict, *, secret: str = SECRET, timestamp: int | None = None, tamper: bool = False):
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp or int(time.time()))
    if tamper:
        payload = payload.replace('"active"', '"canceled"')
    return client.post("/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def test_subscription_created_maps_items_to_mrr_and_is_idempotent(client):
    account = AccountFactory(billing_customer_id="cus_1")
    event = subscription_event("evt_1")
    assert deliver(client, event).json() == {"status": "processed"}
    sub = Subscription.objects.get(external_id="sub_1")
    assert sub.account == account
    assert sub.mrr == Decimal("110.00")  # 5 × 20 monthly + 120 yearly / 12
    assert (sub.quantity, sub.product, sub.status, sub.start_date) == (6, "Growth", "active", dt.date(2024, 1, 15))
    assert deliver(client, event).json() == {"status": "duplicate"}
    assert Subscription.objects.count() == 1


def test_pause_and_delete(client):
    AccountFactory(billing_customer_id="cus_1")
    deliver(client, subscription_event("evt_1"))
    deliver(client, subscription_event("evt_2", "customer.subscription.updated", pause_collection={"behavior": "void"}))
    assert Subscription.objects.get().status == "paused"
    ended = START + 40 * 86400
    deliver(client, subscription_event("evt_3", "customer.subscription.deleted", status="canceled", ended_at=ended))
    sub = Subscription.objects.get()
    assert (sub.status, sub.end_date) == ("canceled", dt.date(2024, 2, 24))


def test_payment_failed_then_paid_sets_and_clears_the_fact(client):
    account = AccountFactory(billing_customer_id="cus_1")
    failed = {"id": "evt_f", "type": "invoice.payment_failed", "created": START,
              "data": {"object": {"id": "in_1", "customer": "cus_1", "amount_due": 4900, "currency": "eur",
                                  "attempt_count": 2}}}  # fmt: skip
    assert deliver(client, failed).json()["status"] == "processed"
    account.refresh_from_db()
    assert account.payment_failed_at is not None
    fact = BillingEvent.objects.get()
    assert (fact.kind, fact.amount, fact.currency) == ("payment_failed", Decimal("49.00"), "eur")
    invoice = {"id": "in_1", "customer": "cus_1", "amount_paid": 4900, "currency": "eur"}
    paid = {"id": "evt_p", "type": "invoice.paid", "created": START + 10, "data": {"object": invoice}}
    deliver(client, paid)
    account.refresh_from_db()
    assert account.payment_failed_at is None


def test_expiring_card_is_recorded(client):
    AccountFactory(billing_customer_id="cus_1")
    event = {"id": "evt_c", "type": "customer.source.expiring", "created": START,
             "data": {"object": {"id": "card_1", "customer": "cus_1", "exp_month": 2, "exp_year": 2024,
                                 "last4": "4242", "brand": "Visa"}}}  # fmt: skip
    deliver(client, event)
    assert BillingEvent.objects.get().details["last4"] == "4242"


def test_unknown_customer_is_recorded_and_matched_when_an_account_claims_it(client):
    assert deliver(client, subscription_event("evt_1")).json() == {"status": "unmatched"}
    assert InboundWebhookEvent.objects.get().customer_ref == "cus_1"
    assert not Subscription.objects.exists()
    from churnapp.apikeys import api_key_create

    _, key = api_key_create(name="crm", scopes=["write"])
    client.put("/api/v1/accounts/by-external-id/a-1/", json.dumps({"name": "A", "billing_customer_id": "cus_1"}),
               content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")  # fmt: skip
    assert Subscription.objects.get().account.external_id == "a-1"
    assert InboundWebhookEvent.objects.get().status == "processed"


def test_metadata_account_id_links_the_customer(client):
    account = AccountFactory(external_id="acc-9")
    deliver(client, subscription_event("evt_1", metadata={"account_id": "acc-9"}))
    account.refresh_from_db()
    assert account.billing_customer_id == "cus_1"
    assert Subscription.objects.get().account == account


@pytest.mark.parametrize(
    "variant",
    [{"tamper": True}, {"secret": "whsec_other"}, {"timestamp": int(time.time()) - 3600}],
    ids=["tampered-body", "wrong-secret", "stale-timestamp"],
)
def test_bad_signatures_are_refused_and_nothing_is_written(client, variant):
    AccountFactory(billing_customer_id="cus_1")
    response = deliver(client, subscription_event("evt_1"), **variant)
    assert response.status_code == 400
    assert "signature" in response.json()["detail"].lower()
    assert not Subscription.objects.exists() and not InboundWebhookEvent.objects.exists()


def test_missing_signature_and_malformed_json(client):
    assert client.post("/webhooks/stripe/", "{}", content_type="application/json").status_code == 400
    header = stripe.WebhookSignature.generate_signature_header("{nope", SECRET)
    response = client.post("/webhooks/stripe/", "{nope", content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400


def test_unhandled_event_types_are_ignored(client):
    event = {"id": "evt_x", "type": "charge.refunded", "created": START, "data": {"object": {"customer": "cus_1"}}}
    assert deliver(client, event).json() == {"status": "ignored"}


def test_a_subscription_in_another_currency_is_converted_or_refused_with_the_reason(client):
    AccountFactory(billing_customer_id="cus_1")
    event = subscription_event("evt_eur", currency="eur")
    for item in event["data"]["object"]["items"]["data"]:
        item["price"]["currency"] = "eur"
    refused = deliver(client, event)
    # Not 2xx: Stripe delivers it again later, with the reason meanwhile kept on the event.
    assert refused.status_code == 422 and refused.json()["status"] == "failed"
    assert refused.json()["detail"].startswith(
        "Subscription sub_1 is priced in EUR: No exchange rate for EUR on or before 2024-01-15"
    )
    assert not Subscription.objects.exists()
    record = InboundWebhookEvent.objects.get(event_id="evt_eur")
    assert record.error == refused.json()["detail"]
    # An admin adds the rate; Stripe's next delivery of the event counts, converted.
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2024, 1, 1), rate=Decimal("1.10"))
    assert deliver(client, event).json() == {"status": "processed"}
    sub = Subscription.objects.get()
    assert (sub.mrr, sub.currency, sub.original_mrr, sub.exchange_rate) == (
        Decimal("121.00"),
        "EUR",
        Decimal("110.00"),
        Decimal("1.10"),
    )
    record.refresh_from_db()
    assert (record.status, record.error) == ("processed", "")
