"""The real Segment client (segment-analytics-python) talks to our tracking API: batching, gzip, Basic auth."""

from __future__ import annotations

import datetime as dt

import pytest
from segment.analytics import Client

from accounts.models import Account, Contact, UsageEvent
from churnapp.apikeys import api_key_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_segment_python_client_events_are_stored(live_server):
    _, write_key = api_key_create(name="Segment", scopes=["ingest"])
    errors = []
    client = Client(
        write_key=write_key,
        host=live_server.url,
        gzip=True,
        max_retries=2,
        upload_size=50,
        on_error=lambda error, batch: errors.append(error),
    )
    client.group("user-1", "acc-seg", traits={"name": "Segmented Inc", "plan": "pro", "employees": 40})
    client.identify("user-1", traits={"email": "ana@segmented.example", "name": "Ana"})
    client.track(anonymous_id="anon-1", event="Visited Pricing")  # before sign-up: attributed through the alias
    client.alias("anon-1", "user-1")
    client.page("user-1", name="Pricing", context={"groupId": "acc-seg"})
    client.screen("user-1", name="Home", context={"groupId": "acc-seg"})
    when = dt.datetime(2024, 6, 1, 9, 30, tzinfo=dt.UTC)
    for i in range(120):
        client.track("user-1", "Campaign Sent", properties={"n": i}, context={"groupId": "acc-seg"}, timestamp=when)
    client.track("user-1", "Logged In")  # no groupId: attributed through the user's contact
    client.flush()
    client.shutdown()

    assert errors == []
    account = Account.objects.get(external_id="acc-seg")
    assert (account.name, account.plan, account.custom_attributes) == ("Segmented Inc", "pro", {"employees": 40})
    assert Contact.objects.get(account=account, user_id="user-1").email == "ana@segmented.example"
    assert UsageEvent.objects.filter(account=account, event_type="Campaign Sent").count() == 120
    assert UsageEvent.objects.filter(account=account, event_type="Logged In").count() == 1
    assert UsageEvent.objects.filter(account=account, event_type="Visited Pricing", user_id="anon-1").count() == 1
    assert set(UsageEvent.objects.filter(account=account, event_type__in=["page:Pricing", "screen:Home"])
               .values_list("event_type", flat=True)) == {"page:Pricing", "screen:Home"}  # fmt: skip
    account.refresh_from_db()
    assert account.last_seen_at is not None


def test_one_invalid_message_never_costs_the_segment_client_its_batch(live_server):
    """Segment's client treats 200 as accepted: the valid messages are stored, the bad one is reported by index."""
    _, write_key = api_key_create(name="Segment", scopes=["ingest"])
    errors = []
    client = Client(write_key=write_key, host=live_server.url, gzip=True, max_retries=5, upload_size=100,
                    on_error=lambda error, batch: errors.append(error))  # fmt: skip
    client.group("user-1", "acc-ok", traits={"name": "OK Inc"})
    client.flush()
    for i in range(98):
        client.track("user-1", "Campaign Sent", properties={"n": i}, context={"groupId": "acc-ok"})
    client.group("user-2", "acc-new", traits={"plan": "p" * 65, "tier": "t" * 33})
    client.flush()
    client.shutdown()

    assert errors == []
    assert UsageEvent.objects.filter(account__external_id="acc-ok").count() == 98
    assert not Account.objects.filter(external_id="acc-new").exists()
