"""Celery tasks (run eagerly here): periodic cycle, event-driven cycle, playbooks, journeys, digest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Task
from automations import rules, tasks
from automations.models import RuleExecution
from messaging import tasks as messaging_tasks
from messaging.models import EmailMessage, Notification
from tests.factories import AccountFactory, SupportTicketFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


def _rule():
    return rules.rule_save(key="t", name="Three tickets", enabled=True,
                           conditions_tree={"type": "tickets_in_days", "count": 1, "days": 1},
                           actions_list=[{"type": "create_task", "title": "Tickets!"}])  # fmt: skip


def test_periodic_cycle_task():
    _rule()
    SupportTicketFactory(account=AccountFactory())
    assert tasks.evaluate_rules.delay().get() == {"rules": 1, "fired": 1, "ran": 1}


def test_recent_facts_cycle_fires_only_for_accounts_with_new_facts():
    _rule()
    fresh = AccountFactory()
    SupportTicketFactory(account=fresh)
    stale = AccountFactory()
    SupportTicketFactory(account=stale, opened_at=timezone.now() - dt.timedelta(hours=12))
    result = tasks.evaluate_rules_recent.delay().get()
    assert result["accounts"] == 1 and result["fired"] == 1
    assert list(RuleExecution.objects.values_list("account_id", flat=True)) == [fresh.pk]
    tasks.evaluate_rules_for_accounts.delay([stale.pk]).get()
    assert RuleExecution.objects.count() == 2


def test_daily_digest_emails_due_and_overdue_tasks_once_a_day():
    casey = UserFactory(username="casey", email="casey@example.com")
    account = AccountFactory(owner=casey, name="Acme")
    today = timezone.localdate()
    TaskFactory(account=account, assignee=casey, title="Renewal call", due_date=today - dt.timedelta(days=2))
    TaskFactory(account=account, assignee=casey, title="QBR deck", due_date=today)
    TaskFactory(account=account, assignee=casey, title="Later", due_date=today + dt.timedelta(days=5))
    assert messaging_tasks.send_task_digests.delay().get() == 1
    messaging_tasks.send_task_digests.delay().get()
    assert EmailMessage.objects.filter(source="digest").count() == 1 and len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "OVERDUE Renewal call · Acme" in body and "QBR deck" in body and "Later" not in body
    assert mail.outbox[0].subject == "Your tasks today: 2 due, 1 overdue"
    assert Notification.objects.filter(user=casey, title="1 overdue task(s)").count() == 1
    assert Task.objects.count() == 3


def test_a_new_answer_is_evaluated_by_the_rules_at_once_without_waiting_for_its_rescoring(
    django_capture_on_commit_callbacks, monkeypatch
):
    from accounts import services as account_services
    from health import tasks as health_tasks

    monkeypatch.setattr(health_tasks.rescore_accounts, "apply_async", lambda *a, **k: None)  # no rescoring
    rules.rule_save(key="detractor", name="Detractor", enabled=True,
                    conditions_tree={"type": "nps_at_most", "value": 6},
                    actions_list=[{"type": "create_task", "title": "Call"}])  # fmt: skip
    account = AccountFactory()
    with django_capture_on_commit_callbacks(execute=True):
        account_services.survey_response_create(account=account, kind="nps", score=2)
    assert list(Task.objects.values_list("account_id", flat=True)) == [account.pk]


def test_a_huge_list_of_changed_accounts_runs_one_full_cycle(monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.evaluate_rules, "delay", lambda: queued.append("full"))
    monkeypatch.setattr(tasks.evaluate_rules_for_accounts, "delay", lambda ids: queued.append(len(ids)))
    tasks.rules_enqueue_for_accounts(list(range(tasks.FULL_CYCLE_FROM + 1)))
    tasks.rules_enqueue_for_accounts([1, 2])
    assert queued == ["full", 2]
