from __future__ import annotations

import base64
import datetime as dt
import gzip

import orjson
import pytest
import time_machine
from django.core.cache import cache

from accounts.models import Account, Contact, PendingMessage, UsageEvent
from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()


@pytest.fixture
def write_key():
    _, secret = api_key_create(name="Segment", scopes=["ingest"])
    return secret


def send(client, path, body, key, *, gzipped=False, **extra):
    raw = orjson.dumps(body)
    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{key}:".encode()).decode(), **extra}
    if gzipped:
        raw = gzip.compress(raw)
        headers["HTTP_CONTENT_ENCODING"] = "gzip"
    return client.post(path, raw, content_type="application/json", **headers)


def test_track_with_group_context_is_stored_and_moves_last_seen(client, write_key):
    account = AccountFactory(external_id="acc-1")
    body = {"userId": "u1", "event": "Report Exported", "properties": {"rows": 10}, "context": {"groupId": "acc-1"},
            "timestamp": "2024-05-31T10:00:00Z", "messageId": "m-1"}  # fmt: skip
    response = send(client, "/v1/track", body, write_key)
    assert response.status_code == 200, response.json()
    assert response.json()["stored"] == 1
    event = UsageEvent.objects.get()
    assert (event.account, event.event_type, event.user_id, event.properties) == (
        account, "Report Exported", "u1", {"rows": 10}
    )  # fmt: skip
    account.refresh_from_db()
    assert account.last_seen_at == dt.datetime(2024, 5, 31, 10, tzinfo=dt.UTC)


def test_message_id_deduplicates_retries(client, write_key):
    AccountFactory(external_id="acc-1")
    body = {"userId": "u1", "event": "Login", "context": {"groupId": "acc-1"}, "messageId": "m-1"}
    send(client, "/v1/track", body, write_key)
    again = send(client, "/v1/track", body, write_key).json()
    assert (again["stored"], again["duplicates"]) == (0, 1)
    assert UsageEvent.objects.count() == 1


def test_clock_skew_is_corrected_with_sent_at(client, write_key):
    AccountFactory(external_id="acc-1")
    # The device clock runs one hour ahead: it stamped the event 10 s before sending, in its own time.
    body = {"batch": [{"type": "track", "userId": "u1", "event": "Login", "context": {"groupId": "acc-1"},
                       "timestamp": "2024-06-01T12:59:50Z"}], "sentAt": "2024-06-01T13:00:00Z"}  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        assert send(client, "/v1/batch", body, write_key).status_code == 200
    assert UsageEvent.objects.get().occurred_at == NOW - dt.timedelta(seconds=10)


def test_group_creates_the_account_links_the_user_and_keeps_traits(client, write_key):
    body = {"userId": "u7", "groupId": "acc-new", "traits": {"name": "Newco", "plan": "pro", "industry": "retail"}}
    assert send(client, "/v1/group", body, write_key).status_code == 200
    account = Account.objects.get(external_id="acc-new")
    assert (account.name, account.plan, account.custom_attributes) == ("Newco", "pro", {"industry": "retail"})
    assert Contact.objects.filter(account=account, user_id="u7").exists()
    send(client, "/v1/group", {"userId": "u7", "groupId": "acc-new", "traits": {"plan": "enterprise"}}, write_key)
    account.refresh_from_db()
    assert (account.plan, account.custom_attributes) == ("enterprise", {"industry": "retail"})
    assert Contact.objects.filter(account=account).count() == 1


def test_events_for_an_unknown_account_wait_and_attach_when_it_appears(client, write_key):
    body = {"userId": "u1", "event": "Login", "context": {"groupId": "later"}, "messageId": "m-9"}
    result = send(client, "/v1/track", body, write_key).json()
    assert result["pending"] == 1 and not UsageEvent.objects.exists()
    no_group = {"userId": "u2", "event": "Login", "messageId": "m-10"}
    assert send(client, "/v1/track", no_group, write_key).json()["pending"] == 1
    send(client, "/v1/group", {"userId": "u2", "groupId": "later", "traits": {"name": "Later Inc"}}, write_key)
    assert set(UsageEvent.objects.values_list("message_id", flat=True)) == {"m-9", "m-10"}
    assert not PendingMessage.objects.exists()


def test_events_wait_for_an_account_created_over_the_rest_api(client, write_key):
    send(client, "/v1/track", {"userId": "u1", "event": "Login", "context": {"groupId": "crm-1"}}, write_key)
    _, rest_key = api_key_create(name="CRM", scopes=["write"])
    client.put("/api/v1/accounts/by-external-id/crm-1/", orjson.dumps({"name": "CRM One"}),
               content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {rest_key}")  # fmt: skip
    assert UsageEvent.objects.filter(account__external_id="crm-1").count() == 1


def test_identify_updates_the_contact(client, write_key):
    contact = ContactFactory(user_id="u5", email="old@example.com", name="Old")
    body = {
        "userId": "u5",
        "traits": {"email": "new@example.com", "firstName": "Ana", "lastName": "Lee", "role": "admin"},
    }
    assert send(client, "/v1/identify", body, write_key).status_code == 200
    contact.refresh_from_db()
    assert (contact.email, contact.name, contact.traits) == ("new@example.com", "Ana Lee", {"role": "admin"})


def test_identify_of_an_unknown_user_applies_once_the_user_joins_an_account(client, write_key):
    send(client, "/v1/identify", {"userId": "u8", "traits": {"email": "u8@example.com"}}, write_key)
    assert PendingMessage.objects.count() == 1
    send(client, "/v1/group", {"userId": "u8", "groupId": "acc-8"}, write_key)
    assert Contact.objects.get(user_id="u8").email == "u8@example.com"


def test_batch_reports_invalid_messages_by_index_and_stores_the_rest(client, write_key):
    AccountFactory(external_id="acc-1")
    body = {"batch": [
        {"type": "track", "userId": "u1", "event": "Login", "context": {"groupId": "acc-1"}},
        {"type": "track", "event": "No user"},
        {"type": "alias", "userId": "u1"},
        {"type": "track", "userId": "u1", "event": "Bad time", "timestamp": "yesterday"},
        "nope",
        {"type": "track", "userId": "u1", "event": "Export", "context": {"groupId": "acc-1"}},
    ]}  # fmt: skip
    response = send(client, "/v1/batch", body, write_key)
    assert response.status_code == 200
    result = response.json()
    assert result["stored"] == 2
    assert [e["index"] for e in result["errors"]] == [1, 2, 3, 4]
    assert "userId" in result["errors"][0]["reason"]
    assert UsageEvent.objects.count() == 2


def test_batch_with_only_invalid_messages_is_400(client, write_key):
    response = send(client, "/v1/batch", {"batch": [{"type": "track"}]}, write_key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 0


def test_gzip_bodies_are_accepted(client, write_key):
    AccountFactory(external_id="acc-1")
    body = {"batch": [{"type": "track", "userId": "u1", "event": "Login", "context": {"groupId": "acc-1"}}]}
    assert send(client, "/v1/batch", body, write_key, gzipped=True).status_code == 200
    assert UsageEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("raw", "encoding", "code"),
    [
        (b"{nope", "", 400),
        (b"not gzip at all", "gzip", 400),
        (b"{}", "br", 415),
        (b'{"batch": "x"}', "", 400),
        (b"[]", "", 400),
    ],
)
def test_bad_bodies_get_clear_4xx(client, write_key, raw, encoding, code):
    extra = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    response = client.post("/v1/batch", raw, content_type="application/json", HTTP_AUTHORIZATION=auth, **extra)
    assert response.status_code == code


def test_oversized_and_zip_bomb_bodies_are_413(client, write_key):
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    bomb = gzip.compress(b'{"batch": [], "pad": "' + b"a" * (21 * 1024 * 1024) + b'"}')
    response = client.post("/v1/batch", bomb, content_type="application/json", HTTP_AUTHORIZATION=auth,
                           HTTP_CONTENT_ENCODING="gzip")  # fmt: skip
    assert response.status_code == 413


def test_tracking_needs_an_ingest_key(client, viewer):
    _, read_key = api_key_create(name="BI", scopes=["read"])
    body = {"userId": "u1", "event": "Login"}
    assert send(client, "/v1/track", body, read_key).status_code == 403
    assert client.post("/v1/track", orjson.dumps(body), content_type="application/json").status_code == 401
    client.force_login(viewer)
    assert client.post("/v1/track", orjson.dumps(body), content_type="application/json").status_code == 403


@pytest.mark.parametrize(
    ("timestamp", "sent_at"),
    [("0001-01-01T00:00:00+14:00", None), ("8999-12-31T00:00:00Z", "1970-01-02T00:00:00Z"), ("1900-01-01", None)],
)
def test_extreme_times_are_rejected_per_message_not_a_server_error(timestamp, sent_at):
    from accounts.tracking.messages import InvalidMessage, parse_message

    raw = {"type": "track", "event": "x", "userId": "u1", "timestamp": timestamp}
    if sent_at:
        raw["sentAt"] = sent_at
    with pytest.raises(InvalidMessage):
        parse_message(raw, index=0, received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), batch_sent_at=None)


def test_a_batch_resending_stored_message_ids_stores_only_the_new_ones(client, write_key):
    """A client retry mixes stored and new events: the stored ones count as duplicates, nothing is doubled
    (on PostgreSQL the bulk COPY meets the unique constraint and the batch takes the ON CONFLICT path)."""
    account = AccountFactory(external_id="acc-1")

    def message(n):
        return {"type": "track", "userId": "u1", "event": "Login", "context": {"groupId": "acc-1"},
                "messageId": f"m-{n}", "timestamp": f"2024-05-0{n}T10:00:00Z"}  # fmt: skip

    first = send(client, "/v1/batch", {"batch": [message(1), message(2)]}, write_key).json()
    assert (first["stored"], first["duplicates"]) == (2, 0)
    again = send(client, "/v1/batch", {"batch": [message(n) for n in (1, 2, 3, 4)]}, write_key).json()
    assert (again["stored"], again["duplicates"]) == (2, 2)
    assert sorted(UsageEvent.objects.values_list("message_id", flat=True)) == ["m-1", "m-2", "m-3", "m-4"]
    account.refresh_from_db()
    assert account.last_seen_at == dt.datetime(2024, 5, 4, 10, tzinfo=dt.UTC)


def test_nul_characters_are_rejected_per_message(client, write_key):
    AccountFactory(external_id="acc-1")
    body = {"batch": [
        {"type": "track", "userId": "u1", "event": "Login", "context": {"groupId": "acc-1"}},
        {"type": "track", "userId": "u\u0000", "event": "Login", "context": {"groupId": "acc-1"}},
        {"type": "track", "userId": "u1", "event": "Login", "properties": {"k": "a\u0000b"},
         "context": {"groupId": "acc-1"}},
    ]}  # fmt: skip
    response = send(client, "/v1/batch", body, write_key)
    assert response.status_code == 200
    assert [e["index"] for e in response.json()["errors"]] == [1, 2]
    assert "NUL" in response.json()["errors"][0]["reason"]
    assert UsageEvent.objects.count() == 1


def test_page_and_screen_are_stored_as_usage_events(client, write_key):
    AccountFactory(external_id="acc-1")
    context = {"groupId": "acc-1"}
    send(client, "/v1/page", {"userId": "u1", "name": "Pricing", "context": context, "messageId": "p-1"}, write_key)
    send(client, "/v1/screen", {"userId": "u1", "name": "Home", "context": context, "messageId": "s-1"}, write_key)
    send(client, "/v1/page", {"userId": "u1", "context": context, "messageId": "p-2"}, write_key)
    assert sorted(UsageEvent.objects.values_list("event_type", flat=True)) == ["page", "page:Pricing", "screen:Home"]


def test_alias_moves_the_contact_and_later_messages_of_the_previous_id_follow(client, write_key):
    account = AccountFactory(external_id="acc-1")
    ContactFactory(account=account, user_id="anon-1")
    response = send(client, "/v1/alias", {"previousId": "anon-1", "userId": "u-42"}, write_key)
    assert response.status_code == 200, response.json()
    assert list(Contact.objects.values_list("user_id", flat=True)) == ["u-42"]
    send(client, "/v1/track", {"userId": "u-42", "event": "Login", "messageId": "m-1"}, write_key)
    send(client, "/v1/track", {"anonymousId": "anon-1", "event": "Export", "messageId": "m-2"}, write_key)
    assert set(UsageEvent.objects.filter(account=account).values_list("event_type", flat=True)) == {"Login", "Export"}


def test_alias_in_a_batch_releases_waiting_messages_of_the_previous_id(client, write_key):
    account = AccountFactory(external_id="acc-1")
    ContactFactory(account=account, user_id="u-42")
    waiting = send(client, "/v1/track", {"anonymousId": "anon-7", "event": "Signup", "messageId": "m-7"}, write_key)
    assert waiting.json()["pending"] == 1
    body = {"batch": [
        {"type": "alias", "previousId": "anon-7", "userId": "u-42"},
        {"type": "alias", "userId": "u-42"},
        {"type": "page", "anonymousId": "anon-7", "name": "Welcome", "messageId": "m-8"},
    ]}  # fmt: skip
    result = send(client, "/v1/batch", body, write_key).json()
    assert [e["index"] for e in result["errors"]] == [1]
    assert "previousId" in result["errors"][0]["reason"]
    assert set(UsageEvent.objects.filter(account=account).values_list("message_id", flat=True)) == {"m-7", "m-8"}
    assert not PendingMessage.objects.exists()


def test_a_batch_rolled_back_by_a_deadlock_is_run_again_and_stored_once(client, write_key, monkeypatch):
    from django.db import OperationalError

    from accounts.tracking import ingest

    class DeadlockDetected(Exception):
        pgcode = "40P01"

    real_process, calls = ingest._process, []

    def deadlock_once(messages, *, keep_pending):
        calls.append(len(messages))
        if len(calls) == 1:
            real_process(messages, keep_pending=keep_pending)  # written, then rolled back to the savepoint
            raise OperationalError("deadlock detected") from DeadlockDetected()
        return real_process(messages, keep_pending=keep_pending)

    monkeypatch.setattr(ingest, "_process", deadlock_once)
    AccountFactory(external_id="acc-1")
    batch = [{"type": "track", "userId": "u1", "event": "Login", "context": {"groupId": "acc-1"},
              "timestamp": "2024-05-31T10:00:00Z", "messageId": f"m-{n}"} for n in range(3)]  # fmt: skip

    response = send(client, "/v1/batch", {"batch": batch}, write_key)

    assert response.status_code == 200, response.json()
    assert (response.json()["stored"], calls) == (3, [3, 3])
    assert UsageEvent.objects.count() == 3


def test_a_batch_that_keeps_deadlocking_answers_503_without_writing(client, write_key, monkeypatch):
    from django.db import OperationalError

    from accounts.tracking import ingest

    class DeadlockDetected(Exception):
        pgcode = "40P01"

    def always_deadlock(messages, *, keep_pending):
        raise OperationalError("deadlock detected") from DeadlockDetected()

    monkeypatch.setattr(ingest, "_process", always_deadlock)
    AccountFactory(external_id="acc-1")
    body = {"userId": "u1", "event": "Login", "context": {"groupId": "acc-1"}, "messageId": "m-1"}
    with pytest.raises(OperationalError):
        ingest.tracking_ingest(messages=[{**body, "type": "track"}])

    response = send(client, "/v1/track", body, write_key)

    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response.json()["success"] is False
    assert UsageEvent.objects.count() == 0


def _track(i: int, group: str = "acc-1") -> dict:
    return {"type": "track", "userId": "u1", "event": "Login", "context": {"groupId": group}, "messageId": f"t-{i}"}


@pytest.mark.parametrize("existing", [False, True], ids=["new-account", "existing-account"])
@pytest.mark.parametrize(
    ("trait", "length"), [("plan", 65), ("tier", 33), ("name", 256), ("domain", 256), ("website", 256)]
)
def test_a_group_trait_longer_than_its_column_is_a_per_message_error_and_the_batch_is_stored(
    client, write_key, existing, trait, length
):
    AccountFactory(external_id="acc-1")
    if existing:
        AccountFactory(external_id="acc-big", plan="starter", tier="gold", name="Big", domain="big.example")
    group = {"type": "group", "userId": "u1", "groupId": "acc-big", "traits": {trait: "x" * length}}
    body = {"batch": [_track(i) for i in range(99)] + [group]}
    response = send(client, "/v1/batch", body, write_key)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["success"], data["stored"]) == (False, 99)
    assert data["errors"] == [{"index": 99, "reason": f"traits.{trait} is longer than {length - 1} characters."}]
    assert UsageEvent.objects.count() == 99
    if existing:  # never a silent truncation
        big = Account.objects.get(external_id="acc-big")
        assert (big.plan, big.tier, big.name, big.domain) == ("starter", "gold", "Big", "big.example")
    else:
        assert not Account.objects.filter(external_id="acc-big").exists()


def test_group_traits_that_fit_their_columns_are_stored_whole(client, write_key):
    body = {"type": "group", "userId": "u1", "groupId": "acc-fit", "traits": {"plan": "p" * 64, "tier": "t" * 32}}
    assert send(client, "/v1/group", body, write_key).status_code == 200
    account = Account.objects.get(external_id="acc-fit")
    assert (account.plan, account.tier) == ("p" * 64, "t" * 32)


def test_identify_and_page_values_longer_than_their_columns_are_per_message_errors(client, write_key):
    ContactFactory(user_id="u1", name="Ana", title="CEO")
    body = {"batch": [
        {"type": "identify", "userId": "u1", "traits": {"title": "t" * 256}},
        {"type": "identify", "userId": "u1", "traits": {"firstName": "f" * 200, "lastName": "l" * 100}},
        {"type": "page", "userId": "u1", "name": "n" * 200},
        {"type": "identify", "userId": "u1", "traits": {"title": "CTO"}},
    ]}  # fmt: skip
    data = send(client, "/v1/batch", body, write_key).json()
    assert [e["index"] for e in data["errors"]] == [0, 1, 2]
    assert "traits.title is longer than 255" in data["errors"][0]["reason"]
    assert "traits.name is longer than 255" in data["errors"][1]["reason"]
    assert "name is longer than" in data["errors"][2]["reason"]
    assert Contact.objects.get(user_id="u1").title == "CTO"


def test_a_message_the_database_refuses_is_reported_and_the_others_are_stored(client, write_key, monkeypatch):
    """Defence in depth: whatever validation misses, the batch's other messages are stored, not a 500."""
    from django.db import DataError

    from accounts.tracking import ingest

    AccountFactory(external_id="acc-1")
    original = ingest.apply_groups

    def refusing(groups):
        if any(m.group_id == "acc-refused" for m in groups):
            raise DataError("value too long for type character varying(64)")
        return original(groups)

    monkeypatch.setattr(ingest, "apply_groups", refusing)
    body = {"batch": [_track(0), {"type": "group", "userId": "u2", "groupId": "acc-refused"}, _track(2),
                      {"type": "group", "userId": "u3", "groupId": "acc-ok"}]}  # fmt: skip
    response = send(client, "/v1/batch", body, write_key)
    assert response.status_code == 200
    data = response.json()
    assert data["stored"] == 2
    assert data["errors"] == [
        {"index": 1, "reason": "Could not be stored: value too long for type character varying(64)"}
    ]
    assert set(Account.objects.values_list("external_id", flat=True)) == {"acc-1", "acc-ok"}
