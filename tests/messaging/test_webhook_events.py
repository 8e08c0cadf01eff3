"""Every event the webhook form offers is emitted, with its documented payload: a subscriber never waits for an
event the product does not send."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from accounts import services
from accounts.imports.runner import import_run
from accounts.models import AccountStatus, ImportJob, ImportKind
from messaging import tasks as messaging_tasks
from messaging.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories import AccountFactory
from winback.models import ChurnType
from winback.services.churn import churn_capture_from_subscriptions, churn_record_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def subscriber(monkeypatch):
    """An endpoint subscribed to every event; deliveries are recorded, not sent."""
    monkeypatch.setattr(messaging_tasks.deliver_webhook, "delay", lambda pk: None)
    events = [e for e in WebhookEvent.values if e != WebhookEvent.PING]
    return WebhookEndpoint.objects.create(url="https://hooks.example.com/in", events=events, secret="s")


def payloads(event: str) -> list[dict]:
    return [d.payload["data"] for d in WebhookDelivery.objects.filter(event=event).order_by("pk")]


def emit_status_changed():
    account = AccountFactory(external_id="acc-s", status=AccountStatus.ACTIVE)
    services.account_set_status(account=account, status=AccountStatus.AT_RISK, actor=None)
    return {"account_id": account.pk, "external_id": "acc-s", "old": "active", "new": "at_risk"}


def emit_band_changed():
    account = AccountFactory(external_id="acc-b", health_band="green", health_score=82)
    first = AccountFactory(health_band="")  # first scored: no band to move from
    services.account_set_health_bulk(rows=[
        {"account_id": account.pk, "health_score": 41, "health_band": "red", "health_trend": -41},
        {"account_id": first.pk, "health_score": 90, "health_band": "green", "health_trend": None},
    ])  # fmt: skip
    return {"account_id": account.pk, "external_id": "acc-b", "old": "green", "new": "red", "score": 41}


def emit_task_created():
    account = AccountFactory()
    task = services.task_create(account=account, title="Call about the renewal", created_by=None)
    return {"task_id": task.pk, "account_id": account.pk, "title": "Call about the renewal", "source": "manual"}


def emit_churn_recorded():
    account = AccountFactory(external_id="acc-c")
    churn_record_create(account=account, churn_type=ChurnType.VOLUNTARY, reason_code="", churned_on=dt.date(2026, 5, 1),
                        source="api", mrr_lost=120)  # fmt: skip
    return {"account_id": account.pk, "external_id": "acc-c", "churned_on": "2026-05-01", "churn_type": "voluntary",
            "mrr_lost": "120", "source": "api"}  # fmt: skip


def emit_import_finished():
    job = ImportJob.objects.create(kind=ImportKind.ACCOUNTS, original_name="accounts.csv")
    import_run(job=job, source=io.BytesIO(b"account_id,name\na-1,Acme\n,Nameless\n"))
    return {"import_id": job.pk, "kind": "accounts", "file": "accounts.csv", "status": "done", "created": 1,
            "failed": 1}  # fmt: skip


SCENARIOS = {
    WebhookEvent.ACCOUNT_STATUS_CHANGED: emit_status_changed,
    WebhookEvent.ACCOUNT_HEALTH_BAND_CHANGED: emit_band_changed,
    WebhookEvent.TASK_CREATED: emit_task_created,
    WebhookEvent.CHURN_RECORDED: emit_churn_recorded,
    WebhookEvent.IMPORT_FINISHED: emit_import_finished,
}


def test_every_subscribable_event_has_a_scenario():
    assert set(SCENARIOS) == set(WebhookEvent.values) - {WebhookEvent.PING}


@pytest.mark.parametrize("event", list(SCENARIOS), ids=str)
def test_the_event_is_emitted_once_with_its_payload(event):
    expected = SCENARIOS[event]()
    sent = payloads(event)
    assert len(sent) == 1, sent
    assert expected.items() <= sent[0].items()


def test_a_band_change_from_the_nightly_recompute_is_emitted():
    from health.services import health_recompute
    from tests.health.factories import events

    account = AccountFactory(external_id="acc-n")
    events(account, dt.date.today(), ["login"] * 3)
    health_recompute()  # first scoring: no band to move from
    assert payloads(WebhookEvent.ACCOUNT_HEALTH_BAND_CHANGED) == []
    account.refresh_from_db()
    scored = account.health_band
    assert scored
    other = "green" if scored == "red" else "red"
    AccountFactory._meta.model.objects.filter(pk=account.pk).update(health_band=other)
    health_recompute()
    sent = payloads(WebhookEvent.ACCOUNT_HEALTH_BAND_CHANGED)
    assert [(p["external_id"], p["old"], p["new"]) for p in sent] == [("acc-n", other, scored)]


def test_churn_captured_from_subscriptions_is_emitted_once():
    from tests.factories import SubscriptionFactory

    account = AccountFactory(external_id="acc-sub")
    SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1), end_date=dt.date(2026, 2, 1), mrr=300)
    churn_capture_from_subscriptions(today=dt.date(2026, 3, 1))
    churn_capture_from_subscriptions(today=dt.date(2026, 3, 1))  # idempotent: nothing new, nothing sent
    sent = payloads(WebhookEvent.CHURN_RECORDED)
    assert [(p["external_id"], p["source"]) for p in sent] == [("acc-sub", "subscriptions")]


def test_nothing_is_built_when_nobody_listens(subscriber, django_assert_num_queries):
    subscriber.delete()
    account = AccountFactory(health_band="green")
    with django_assert_num_queries(4):  # the subscription check; the update, in a savepoint: no band read
        services.account_set_health_bulk(rows=[{"account_id": account.pk, "health_band": "red"}])
    assert not WebhookDelivery.objects.exists()
