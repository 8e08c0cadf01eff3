"""What churnapp writes to its own users is in each user's language: their choice (`churnapp.preferences`), else the
installation's (settings.LANGUAGE_CODE). Emails to customers built from the team's templates stay as written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone, translation

from automations import rules
from churnapp.preferences import user_language_set
from messaging import webhooks
from messaging.models import Notification
from messaging.notifications import task_digest_send
from tests.factories import AccountFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def italian():
    user = UserFactory(username="giulia", email="giulia@example.com")
    user_language_set(user, "it")
    return user


@pytest.fixture
def english():
    user = UserFactory(username="emma", email="emma@example.com")
    user_language_set(user, "en")
    return user


def _mail_to(user):
    return next(m for m in mail.outbox if m.to == [user.email])


def _disable_endpoint(user):
    endpoint = webhooks.endpoint_create(url="https://hooks.example.com/in", events=["task.created"], created_by=user)
    endpoint.consecutive_failures = webhooks.DISABLE_AFTER_FAILED_DELIVERIES - 1
    endpoint.save(update_fields=["consecutive_failures"])
    webhooks._record_failed_delivery(endpoint=endpoint, error="HTTP 500")


@pytest.mark.parametrize("active", ["en", "bg"])  # whatever language the code that disables it runs in
def test_a_disabled_webhook_endpoint_is_announced_to_its_creator_in_their_language(italian, english, active):
    with translation.override(active):
        _disable_endpoint(italian)
        _disable_endpoint(english)
    it_mail, en_mail = _mail_to(italian), _mail_to(english)
    assert it_mail.subject == "Endpoint webhook disattivato: https://hooks.example.com/in"
    assert "Disattivato dopo 5 consegne non riuscite di fila (ultima: HTTP 500)." in it_mail.body
    assert "Riattivalo dalla pagina dei webhook" in it_mail.body
    assert en_mail.subject == "Webhook endpoint disabled: https://hooks.example.com/in"
    assert en_mail.body == (
        "Disabled after 5 failed deliveries in a row (last: HTTP 500).\n\n"
        "Re-enable it on the webhooks page once the receiver works again."
    )


def test_the_daily_digest_is_written_in_each_assignees_language(italian, english):
    today = timezone.localdate()
    for user in (italian, english):
        account = AccountFactory(owner=user, name=f"Acme {user.username}")
        TaskFactory(account=account, assignee=user, title="Renewal call", due_date=today - dt.timedelta(days=2))
        TaskFactory(account=account, assignee=user, title="QBR deck", due_date=today)
    with translation.override("bg"):
        assert task_digest_send(today=today) == 2
    it_mail, en_mail = _mail_to(italian), _mail_to(english)
    assert it_mail.subject == "Le tue attività di oggi: 2 in scadenza, 1 in ritardo"
    assert "- IN RITARDO Renewal call · Acme giulia (scadenza " in it_mail.body  # task titles are data: as written
    assert en_mail.subject == "Your tasks today: 2 due, 1 overdue"
    assert "- OVERDUE Renewal call · Acme emma (due " in en_mail.body
    assert Notification.objects.get(user=italian).title == "1 attività in ritardo"
    assert Notification.objects.get(user=english).title == "1 overdue task(s)"


def test_a_user_without_a_language_gets_the_installations(settings):
    settings.LANGUAGE_CODE = "it"
    nobody_chose = UserFactory(username="nora", email="nora@example.com")
    _disable_endpoint(nobody_chose)
    assert _mail_to(nobody_chose).subject.startswith("Endpoint webhook disattivato")


def test_a_rule_notification_explains_itself_in_each_recipients_language(italian, english):
    AccountFactory(name="Lowco", health_score=55, owner=italian)
    AccountFactory(name="Highco", health_score=50, owner=english)
    rules.rule_save(
        key="low-health", name="Health below 70", enabled=True,
        conditions_tree={"all": [{"type": "health_below", "value": 70}]},
        actions_list=[{"type": "notify", "to": "owner", "title": "{{ account.name }} needs you", "email": True}],
    )  # fmt: skip
    with translation.override("bg"):
        rules.rules_cycle()
    it_mail, en_mail = _mail_to(italian), _mail_to(english)
    # The title is the team's text (data); the explanation is churnapp's, in the reader's language.
    assert it_mail.subject == "Lowco needs you" and en_mail.subject == "Highco needs you"
    assert it_mail.body.startswith("Creato dalla regola “Health below 70”.\n- Health score: 55")
    assert en_mail.body.startswith("Created by rule “Health below 70”.\n- Health score: 50")
    assert Notification.objects.get(user=italian).body.startswith("Creato dalla regola")
    assert Notification.objects.get(user=english).body.startswith("Created by rule")
