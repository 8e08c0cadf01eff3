"""The audit trail records who changed what, field by field, through every door: pages, the REST API, imports, the
tracking API, webhooks and the workers (rules, playbooks, the system)."""

from __future__ import annotations

import base64
import io
import json
import time

import orjson
import pytest
import stripe
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from accounts.imports.runner import import_run
from accounts.models import Account, Contact, ImportJob, Subscription
from accounts.tasks import refresh_account_snapshots
from audit.models import AuditEntry
from automations import playbooks, rules
from automations.models import Playbook, PlaybookStep
from automations.tasks import evaluate_rules
from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def entries(object_type: str, **filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type=object_type, **filters).order_by("id"))


def test_a_page_edit_records_the_person_the_door_and_the_field(client, csm, own_account):
    client.force_login(csm)
    client.post(f"/accounts/{own_account.pk}/status/", {"status": "at_risk"})
    [entry] = entries("accounts.account", action="update")
    assert (entry.door, entry.actor_kind, entry.actor_id, entry.user_id) == ("ui", "user", str(csm.pk), csm.pk)
    assert entry.changes == {"status": [own_account.status, "at_risk"]}
    assert (entry.object_id, entry.account_id, entry.object_label) == (
        str(own_account.pk),
        own_account.pk,
        own_account.name,
    )


def test_an_api_key_write_records_the_key(client):
    account = AccountFactory()
    key, secret = api_key_create(name="CRM sync", scopes=["write"])
    response = client.post(
        "/api/v1/contacts/", {"account": account.external_id, "email": "ann@example.com", "name": "Ann"},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    [entry] = entries("accounts.contact")
    assert (entry.door, entry.actor_kind, entry.actor_id, entry.actor_label) == (
        "api",
        "api_key",
        str(key.pk),
        "CRM sync",
    )
    assert (entry.action, entry.account_id) == ("create", account.pk)
    assert entry.changes["email"] == [None, "ann@example.com"]


def test_a_session_api_write_records_the_person(client, manager):
    account = AccountFactory(plan="Growth")
    client.force_login(manager)
    response = client.patch(f"/api/v1/accounts/{account.pk}/", {"plan": "Scale"}, content_type="application/json")
    assert response.status_code == 200, response.content
    [entry] = entries("accounts.account", action="update")
    assert (entry.door, entry.actor_kind, entry.user_id, entry.changes) == (
        "api", "user", manager.pk, {"plan": ["Growth", "Scale"]}
    )  # fmt: skip


def test_a_bulk_api_upsert_is_recorded_set_based_with_before_and_after(client, django_assert_max_num_queries):
    AccountFactory(external_id="a-1", name="Old name")
    _, secret = api_key_create(name="Warehouse", scopes=["write"])
    rows = [{"external_id": "a-1", "name": "New name"}] + [
        {"external_id": f"n-{i}", "name": f"N{i}"} for i in range(50)
    ]
    response = client.post(
        "/api/v1/accounts/bulk/", rows, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 200, response.content
    updated = entries("accounts.account", action="update")
    assert [e.changes for e in updated] == [{"name": ["Old name", "New name"]}]
    created = entries("accounts.account", action="create", batch=updated[0].batch)
    assert len(created) == 50 and len({e.batch for e in created + updated}) == 1  # one write, one batch


def test_an_import_records_the_job_and_who_uploaded_it(settings, tmp_path, admin_user):
    settings.MEDIA_ROOT = tmp_path
    AccountFactory(external_id="acc-1", name="Before")
    job = ImportJob.objects.create(kind="accounts", original_name="crm.csv", created_by=admin_user)
    import_run(job=job, source=io.BytesIO(b"account_id,name\nacc-1,After\nacc-2,Newco\n"))
    [update] = entries("accounts.account", action="update")
    [create] = entries("accounts.account", action="create", door="import")
    for entry in (update, create):
        assert (entry.door, entry.actor_kind, entry.actor_id, entry.actor_label, entry.user_id) == (
            "import", "import", str(job.pk), "crm.csv", admin_user.pk
        )  # fmt: skip
    assert update.changes == {"name": ["Before", "After"]}


def test_the_tracking_api_records_the_contact_it_creates_and_changes():
    cache.clear()
    AccountFactory(external_id="acc-1")
    key, secret = api_key_create(name="Segment", scopes=["ingest"])
    client = Client()
    auth = "Basic " + base64.b64encode(f"{secret}:".encode()).decode()
    for traits in ({"email": "u1@example.com"}, {"email": "u1@example.com", "name": "Uma"}):
        body = {"batch": [{"type": "identify", "userId": "u1", "traits": traits, "context": {"groupId": "acc-1"},
                           "messageId": f"m-{len(traits)}"}]}  # fmt: skip
        response = client.post(
            "/v1/batch", orjson.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth
        )
        assert response.status_code == 200, response.content
    recorded = entries("accounts.contact")
    assert [e.action for e in recorded] == ["create", "update", "update"]
    assert all((e.door, e.actor_kind, e.actor_id) == ("tracking", "api_key", str(key.pk)) for e in recorded)
    assert recorded[1].changes["email"] == ["", "u1@example.com"] and recorded[2].changes == {"name": ["", "Uma"]}


PRICE = {"unit_amount": 5000, "product": "p", "recurring": {"interval": "month", "interval_count": 1}}
LOW_HEALTH = {"all": [{"type": "health_below", "value": 70}]}


def test_a_billing_webhook_records_the_webhook(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = secret = "whsec_audit"
    account = AccountFactory(external_id="acc-1")
    event = {"id": "evt_1", "object": "event", "type": "customer.subscription.created", "created": int(time.time()),
             "data": {"object": {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active",
                                 "start_date": int(time.time()), "metadata": {"account_id": "acc-1"},
                                 "pause_collection": None, "ended_at": None, "canceled_at": None,
                                 "items": {"data": [{"quantity": 2, "price": PRICE}]}}}}  # fmt: skip
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=int(time.time()))
    response = client.post("/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 200, response.content
    subscription = Subscription.objects.get()
    [created] = entries("accounts.subscription")
    assert (created.door, created.actor_kind, created.actor_id, created.actor_label) == (
        "webhook",
        "webhook",
        "evt_1",
        "Stripe",
    )
    assert (created.object_id, created.account_id) == (str(subscription.pk), account.pk)
    [linked] = entries("accounts.account", action="update")
    assert linked.changes == {"billing_customer_id": ["", "cus_1"]} and linked.actor_kind == "webhook"


def test_a_rule_in_the_worker_records_the_rule():
    account = AccountFactory(name="Lowco", health_score=55, status="active")
    rule = rules.rule_save(key="low", name="Health below 70", conditions_tree=LOW_HEALTH,
                           actions_list=[{"type": "set_status", "status": "at_risk"},
                                         {"type": "create_task", "title": "Call them"}], enabled=True)  # fmt: skip
    evaluate_rules.delay()
    [status] = entries("accounts.account", action="update")
    assert (status.door, status.actor_kind, status.actor_id, status.actor_label) == (
        "worker",
        "rule",
        str(rule.pk),
        rule.name,
    )
    assert status.changes == {"status": ["active", "at_risk"]} and status.account_id == account.pk
    [task] = entries("accounts.task")
    assert (task.action, task.actor_kind, task.changes["title"]) == ("create", "rule", [None, "Call them"])


def test_the_systems_own_writes_say_so(own_account):
    Subscription.objects.create(
        account=own_account, product="Core", mrr=100, start_date="2024-01-01", end_date="2024-02-01"
    )
    refresh_account_snapshots.delay()
    [entry] = entries("accounts.account", action="update", changes__has_key="status")
    assert (entry.door, entry.actor_kind, entry.actor_label) == (
        "worker",
        "system",
        "accounts.tasks.refresh_account_snapshots",
    )
    assert entry.changes["status"][1] == "churned"


def test_configuration_changes_are_recorded_with_secrets_hidden(client, admin_user):
    client.force_login(admin_user)
    client.post("/settings/integrations/api-keys/", {"name": "Helpdesk", "scopes": ["read"]})
    [key_entry] = entries("churnapp.apikey")
    assert key_entry.changes["key_hash"] == [None, "[hidden]"] and key_entry.changes["name"] == [None, "Helpdesk"]
    csm = UserFactory(username="cora", role="CSM")
    csm.groups.set([Group.objects.get(name="Manager")])
    role_entries = [e for e in entries("auth.user", object_id=str(csm.pk)) if "groups" in e.changes]
    assert [e.changes["groups"] for e in role_entries][-2:] == [{"removed": ["CSM"]}, {"added": ["Manager"]}]
    assert all("password" not in e.changes or e.changes["password"][1] == "[hidden]" for e in entries("auth.user"))


def test_a_deleted_object_keeps_its_last_values(client, manager):
    account = AccountFactory(name="Goneco")
    client.force_login(manager)
    contact = Contact.objects.create(account=account, email="gone@example.com")
    response = client.delete(f"/api/v1/contacts/{contact.pk}/")
    assert response.status_code == 204
    [deleted] = entries("accounts.contact", action="delete")
    assert deleted.changes["email"] == ["gone@example.com", None] and deleted.door == "api"
    assert Account.objects.filter(pk=account.pk).exists()


def test_a_playbook_step_records_the_playbook():
    account = AccountFactory(name="Idle Inc")
    playbook = Playbook.objects.create(key="call-them", name="Call them")
    PlaybookStep.objects.create(playbook=playbook, order=1, kind="task", config={"title": "Call {{ account.name }}"})
    playbooks.playbook_enrol(playbook=playbook, account=account)
    playbooks.enrolments_advance_due()
    [task] = entries("accounts.task")
    assert (task.actor_kind, task.actor_id, task.actor_label) == ("playbook", str(playbook.pk), "Call them")
    assert task.changes["title"] == [None, "Call Idle Inc"] and task.account_id == account.pk
