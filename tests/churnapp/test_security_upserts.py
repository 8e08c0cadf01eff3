"""Upserts by external id never take over an object on someone else's account, nor move it between accounts."""

from __future__ import annotations

import io

import orjson
import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.imports.runner import import_run
from accounts.models import Contact, ImportJob, Subscription, SupportTicket, SurveyResponse
from churnapp.apikeys import api_key_create
from tests.factories import (
    AccountFactory,
    ContactFactory,
    SubscriptionFactory,
    SupportTicketFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()


def send(client, method: str, url: str, body, **headers):
    return getattr(client, method)(url, orjson.dumps(body), content_type="application/json", **headers)


def write_key() -> dict:
    _, secret = api_key_create(name="crm", scopes=["read", "write"])
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def victim(other_account):
    return ContactFactory(
        account=other_account, external_id="c-victim", email="ana@globex.example", user_id="u-ana", unsubscribed=False
    )


TAKEOVER = {"email": "x@evil.example", "unsubscribed": True}


def assert_untouched(victim, other_account):
    victim.refresh_from_db()
    assert victim.account_id == other_account.pk
    assert (victim.email, victim.unsubscribed, victim.user_id) == ("ana@globex.example", False, "u-ana")


def test_csm_cannot_take_over_a_teammates_contact_with_post(client, csm, own_account, other_account, victim):
    client.force_login(csm)
    body = {"external_id": "c-victim", "account": own_account.external_id, **TAKEOVER}
    response = send(client, "post", "/api/v1/contacts/", body)
    assert response.status_code == 403, response.json()
    assert "cannot edit" in response.json()["external_id"][0]
    assert_untouched(victim, other_account)


def test_csm_cannot_take_over_a_teammates_contact_by_external_id(client, csm, own_account, other_account, victim):
    client.force_login(csm)
    response = send(client, "put", "/api/v1/contacts/by-external-id/c-victim/", {"account": own_account.external_id})
    assert response.status_code == 403
    # Not naming an account at all does not help either.
    response = send(client, "put", "/api/v1/contacts/by-external-id/c-victim/", TAKEOVER)
    assert response.status_code in (400, 403)
    assert_untouched(victim, other_account)


def test_csm_cannot_take_over_a_teammates_contact_in_bulk(client, csm, own_account, other_account, victim):
    client.force_login(csm)
    rows = [
        {"external_id": "c-mine", "account": own_account.external_id, "email": "new@acme.example"},
        {"external_id": "c-victim", "account": own_account.external_id, **TAKEOVER},
    ]
    response = send(client, "post", "/api/v1/contacts/bulk/", rows)
    assert response.status_code == 403
    assert [e["index"] for e in response.json()["errors"]] == [1]
    assert "cannot edit" in response.json()["errors"][0]["errors"]["external_id"][0]
    assert_untouched(victim, other_account)
    assert not Contact.objects.filter(external_id="c-mine").exists()  # all or nothing


def test_csm_still_upserts_contacts_on_own_accounts(client, csm, own_account):
    ContactFactory(account=own_account, external_id="c-own", email="old@acme.example")
    client.force_login(csm)
    body = {"account": own_account.external_id, "email": "new@acme.example"}
    response = send(client, "put", "/api/v1/contacts/by-external-id/c-own/", body)
    assert response.status_code == 200, response.json()
    assert Contact.objects.get(external_id="c-own").email == "new@acme.example"


def test_csm_cannot_move_own_contact_to_a_teammates_account(client, csm, own_account, other_account):
    ContactFactory(account=own_account, external_id="c-own")
    client.force_login(csm)
    response = send(client, "put", "/api/v1/contacts/by-external-id/c-own/", {"account": other_account.external_id})
    assert response.status_code == 403
    assert Contact.objects.get(external_id="c-own").account_id == own_account.pk


def test_upsert_never_moves_a_contact_even_for_a_manager(client, manager, own_account, other_account, victim):
    client.force_login(manager)
    response = send(client, "put", "/api/v1/contacts/by-external-id/c-victim/", {"account": own_account.external_id})
    assert response.status_code == 400
    assert "cannot move it" in response.json()["account"][0]
    assert_untouched(victim, other_account)
    # The explicit move by id stays possible for whoever may edit both accounts.
    response = send(client, "patch", f"/api/v1/contacts/{victim.pk}/", {"account": own_account.external_id})
    assert response.status_code == 200
    victim.refresh_from_db()
    assert victim.account_id == own_account.pk


@pytest.fixture
def two_accounts():
    return AccountFactory(external_id="a-home"), AccountFactory(external_id="a-away")


def _existing(kind: str, account):
    if kind == "subscriptions":
        SubscriptionFactory(account=account, external_id="x-1")
        return Subscription, "subscriptions", {"product": "growth", "mrr": "1", "start_date": "2024-01-01"}
    if kind == "tickets":
        SupportTicketFactory(account=account, external_id="x-1")
        return SupportTicket, "tickets", {"subject": "Hi", "opened_at": timezone.now().isoformat()}
    SurveyResponseFactory(account=account, external_id="x-1")
    body = {"kind": "nps", "score": 0, "responded_at": timezone.now().isoformat()}
    return SurveyResponse, "survey-responses", body


@pytest.mark.parametrize("kind", ["subscriptions", "tickets", "surveys"])
@pytest.mark.parametrize("how", ["post", "put", "bulk"])
def test_write_key_upsert_cannot_move_objects_between_accounts(client, two_accounts, kind, how):
    home, away = two_accounts
    model, endpoint, body = _existing(kind, home)
    headers = write_key()
    row = {**body, "account": away.external_id}
    if how == "post":
        response = send(client, "post", f"/api/v1/{endpoint}/", {**row, "external_id": "x-1"}, **headers)
        errors = response.json()
    elif how == "put":
        response = send(client, "put", f"/api/v1/{endpoint}/by-external-id/x-1/", row, **headers)
        errors = response.json()
    else:
        response = send(client, "post", f"/api/v1/{endpoint}/bulk/", [{**row, "external_id": "x-1"}], **headers)
        errors = response.json()["errors"][0]["errors"]
    assert response.status_code == 400
    assert "cannot move it" in errors["account"][0]
    assert model.objects.get(external_id="x-1").account_id == home.pk


@pytest.mark.parametrize("kind", ["subscriptions", "tickets", "surveys"])
def test_csm_cannot_upsert_a_teammates_subscription_ticket_or_survey(client, csm, own_account, other_account, kind):
    model, endpoint, body = _existing(kind, other_account)
    client.force_login(csm)
    response = send(
        client, "put", f"/api/v1/{endpoint}/by-external-id/x-1/", {**body, "account": own_account.external_id}
    )
    assert response.status_code == 403
    assert model.objects.get(external_id="x-1").account_id == other_account.pk


def test_import_reports_a_row_that_would_move_a_contact_and_writes_the_others(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    home, away = AccountFactory(external_id="a-home"), AccountFactory(external_id="a-away")
    ContactFactory(account=home, external_id="c-1", email="one@home.example")
    text = "contact_id,account_id,email\nc-1,a-away,moved@away.example\nc-2,a-away,two@away.example\n"
    job = import_run(
        job=ImportJob.objects.create(kind="contacts", original_name="c.csv"), source=io.BytesIO(text.encode())
    )
    assert job.failed_count == 1 and job.created_count == 1
    assert "cannot move it" in job.row_errors.get().message
    moved = Contact.objects.get(external_id="c-1")
    assert (moved.account_id, moved.email) == (home.pk, "one@home.example")
    assert Contact.objects.get(external_id="c-2").account_id == away.pk
