"""Rules: actions, cooldown and de-duplication, execution log, dry run, YAML, concurrency."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import Activity, Task, TaskStatus
from automations import rules, rules_yaml
from automations.models import ActionRun, Enrolment, Playbook, PlaybookStep, RuleExecution
from messaging.models import EmailMessage, Notification, WebhookDelivery, WebhookEndpoint
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.messaging.factories import EmailTemplateFactory

pytestmark = pytest.mark.django_db

LOW_HEALTH = {"all": [{"type": "health_below", "value": 70}]}


def _rule(actions_list, tree=None, **kw):
    return rules.rule_save(
        key=kw.pop("key", "low-health"), name=kw.pop("name", "Health below 70"),
        conditions_tree=tree or LOW_HEALTH, actions_list=actions_list, enabled=True, **kw,
    )  # fmt: skip


@pytest.fixture
def owner():
    return UserFactory(username="olive", email="olive@example.com", role="CSM")


@pytest.fixture
def low(owner):
    return AccountFactory(name="Lowco", health_score=55, owner=owner)


def test_create_task_for_the_owner_with_why_it_fired(low, owner):
    AccountFactory(health_score=90)
    rule = _rule([{"type": "create_task", "title": "Check in with {{ account.name }}", "priority": "high",
                   "due_in_days": 3}])  # fmt: skip
    assert rules.rules_cycle() == {"rules": 1, "fired": 1, "ran": 1}
    task = Task.objects.get()
    assert (task.account, task.assignee, task.source, task.priority) == (low, owner, "rule", "high")
    assert task.title == "Check in with Lowco"
    assert task.due_date == timezone.localdate() + dt.timedelta(days=3)
    assert "Health score: 55" in task.description
    execution = RuleExecution.objects.get()
    assert execution.matched == {"Health score": 55} and execution.status == "succeeded"
    assert execution.task == task and rule.executions.count() == 1


def test_task_for_a_role_or_a_named_user(low):
    lead = UserFactory(username="lead", role="Manager")
    _rule([{"type": "create_task", "title": "A", "assignee": "role:Manager"},
           {"type": "create_task", "title": "B", "assignee": "user:lead"}])  # fmt: skip
    rules.rules_cycle()
    assert set(Task.objects.values_list("title", "assignee")) == {("A", lead.pk), ("B", lead.pk)}


def test_set_status_stage_and_tags(low):
    _rule([{"type": "set_status", "status": "at_risk"}, {"type": "set_stage", "stage": "at_risk"},
           {"type": "add_tag", "tag": "inactive-10d"}])  # fmt: skip
    rules.rules_cycle()
    low.refresh_from_db()
    assert (low.status, low.lifecycle_stage) == ("at_risk", "at_risk")
    assert list(low.tags.values_list("name", flat=True)) == ["inactive-10d"]
    assert Activity.objects.filter(account=low, kind="change").count() == 3  # audited: status, stage and tag
    _rule([{"type": "remove_tag", "tag": "inactive-10d"}], key="untag", tree={"type": "tag", "has": ["inactive-10d"]})
    rules.rules_cycle()
    assert not low.tags.exists()


def test_send_email_to_the_contact_and_the_owner(low, owner):
    ContactFactory(account=low, email="dana@lowco.example", is_primary=True)
    EmailTemplateFactory(key="check-in", subject="How is it going, {{ account.name }}?")
    _rule([{"type": "send_email", "template": "check-in", "to": "contact"},
           {"type": "send_email", "template": "check-in", "to": "owner"}])  # fmt: skip
    rules.rules_cycle()
    assert sorted(m.to[0] for m in mail.outbox) == ["dana@lowco.example", "olive@example.com"]
    assert set(EmailMessage.objects.values_list("source", flat=True)) == {"rule"}


def test_notify_in_app_and_by_email(low, owner):
    _rule([{"type": "notify", "to": "owner", "title": "{{ account.name }} needs you", "email": True}])
    rules.rules_cycle()
    note = Notification.objects.get(user=owner)
    assert note.title == "Lowco needs you" and note.account == low
    assert mail.outbox[0].to == ["olive@example.com"]


def test_enrol_in_playbook(low):
    playbook = Playbook.objects.create(key="rescue", name="Rescue")
    PlaybookStep.objects.create(playbook=playbook, order=1, kind="task", config={"title": "Call"})
    _rule([{"type": "enrol_playbook", "playbook": "rescue"}])
    rules.rules_cycle()
    enrolment = Enrolment.objects.get()
    assert enrolment.account == low and enrolment.status == "completed"
    assert Task.objects.get().source == "playbook"


def test_fire_outgoing_webhook(low, monkeypatch):
    monkeypatch.setattr("messaging.tasks.deliver_webhook.delay", lambda pk: None)
    WebhookEndpoint.objects.create(url="https://crm.example.com/hook", events=["rule.fired"], secret="s")
    _rule([{"type": "webhook", "event": "rule.fired"}])
    rules.rules_cycle()
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["data"]["account"]["name"] == "Lowco"
    assert delivery.payload["data"]["matched"] == {"Health score": 55}


def test_action_failure_is_logged_and_other_actions_still_run(low):
    _rule([{"type": "send_email", "template": "missing", "to": "contact"}, {"type": "create_task", "title": "T"}])
    rules.rules_cycle()
    execution = RuleExecution.objects.get()
    assert execution.status == "partial"
    failed = ActionRun.objects.get(ok=False)
    assert failed.kind == "send_email" and "No email template" in failed.detail
    assert Task.objects.count() == 1


def test_rule_does_not_fire_twice_within_cooldown(low):
    _rule([{"type": "notify", "to": "owner"}], cooldown_days=7)
    with time_machine.travel(timezone.now()):
        rules.rules_cycle()
        rules.rules_cycle()
    with time_machine.travel(timezone.now() + dt.timedelta(days=3)):
        assert rules.rules_cycle()["fired"] == 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        assert rules.rules_cycle()["fired"] == 1
    assert RuleExecution.objects.count() == 2


def test_no_second_task_while_the_first_is_open(low):
    _rule([{"type": "create_task", "title": "Follow up"}], cooldown_days=0)
    rules.rules_cycle()
    with time_machine.travel(timezone.now() + dt.timedelta(days=30)):
        assert rules.rules_cycle()["fired"] == 0
        Task.objects.update(status=TaskStatus.DONE)
        assert rules.rules_cycle()["fired"] == 1
    assert Task.objects.count() == 2


def test_two_workers_racing_never_double_fire(low, monkeypatch):
    """Both workers computed their candidates before either inserted: the unique key keeps one execution."""
    rule = _rule([{"type": "create_task", "title": "Once"}])
    monkeypatch.setattr(rules, "_eligible", lambda rule, now, ids=None: rules.Account.objects.all())
    now = timezone.now()
    rules.rule_evaluate(rule=rule, now=now)
    rules.rule_evaluate(rule=rule, now=now + dt.timedelta(seconds=5))
    rules.executions_run_pending()
    rules.executions_run_pending()
    assert RuleExecution.objects.count() == 1 and Task.objects.count() == 1


def test_rerunning_an_execution_does_not_repeat_done_actions(low):
    rule = _rule([{"type": "create_task", "title": "Once"}])
    rules.rule_evaluate(rule=rule)
    rules.executions_run_pending()
    execution = RuleExecution.objects.get()
    rules.execution_run(execution=execution)  # e.g. a retried task
    assert Task.objects.count() == 1


def test_disabled_rules_do_not_run_but_run_now_does(low):
    rule = _rule([{"type": "create_task", "title": "Now"}])
    rules.rule_set_enabled(rule=rule, enabled=False)
    assert rules.rules_cycle()["rules"] == 0
    assert rules.rule_run_now(rule=rule) == {"fired": 1, "ran": 1}
    assert Task.objects.count() == 1


def test_dry_run_equals_the_real_matches(owner):
    accounts = [AccountFactory(health_score=s, owner=owner) for s in (10, 40, 69, 70, 95)]
    ContactFactory(account=accounts[0])
    rule = _rule([{"type": "create_task", "title": "x"}])
    dry = rules.rule_dry_run(rule=rule)
    assert dry["total"] == 3 and dry["labels"] == ["Health score"]
    assert all(row["would_fire"] for row in dry["rows"])
    rules.rules_cycle()
    fired = set(RuleExecution.objects.values_list("account_id", flat=True))
    assert fired == {row["id"] for row in dry["rows"]}
    after = rules.rule_dry_run(rule=rule)
    assert after["total"] == 3 and not any(row["would_fire"] for row in after["rows"])  # cooldown


def test_evaluation_for_some_accounts_only(owner):
    a, b = AccountFactory(health_score=10), AccountFactory(health_score=10)
    _rule([{"type": "create_task", "title": "x"}])
    assert rules.rules_cycle(account_ids=[a.pk])["fired"] == 1
    assert set(RuleExecution.objects.values_list("account_id", flat=True)) == {a.pk}
    assert rules.rules_cycle(account_ids=[b.pk])["fired"] == 1


def test_accounts_with_new_facts(low):
    from tests.factories import SupportTicketFactory

    quiet = AccountFactory()
    SupportTicketFactory(account=low)
    assert rules.accounts_with_new_facts(since=timezone.now() - dt.timedelta(minutes=2)) == [low.pk]
    assert quiet.pk not in rules.accounts_with_new_facts(since=timezone.now() - dt.timedelta(minutes=2))


def test_invalid_rules_are_refused():
    with pytest.raises(rules.RuleInvalid):
        rules.rule_save(key="bad", name="Bad", conditions_tree={"type": "nope"}, actions_list=[{"type": "notify"}])
    with pytest.raises(rules.RuleInvalid):
        rules.rule_save(key="bad", name="Bad", conditions_tree=LOW_HEALTH, actions_list=[{"type": "explode"}])


def test_yaml_export_import_round_trip():
    _rule([{"type": "create_task", "title": "x"}], description="Example")
    text = rules_yaml.rules_export_yaml()
    assert "health_below" in text
    rules.Rule.objects.all().delete()
    assert rules_yaml.rules_import_yaml(text=text) == {"created": 1, "updated": 0}
    rule = rules.Rule.objects.get()
    assert rule.conditions == LOW_HEALTH and rule.enabled and rule.description == "Example"
    assert rules_yaml.rules_import_yaml(text=text) == {"created": 0, "updated": 1}


def test_yaml_import_is_all_or_nothing():
    text = """
rules:
  - key: ok
    name: OK
    conditions: {type: health_below, value: 50}
    actions: [{type: notify}]
  - key: broken
    name: Broken
    conditions: {type: unknown}
    actions: [{type: notify}]
"""
    with pytest.raises(rules.RuleInvalid, match="broken"):
        rules_yaml.rules_import_yaml(text=text)
    assert not rules.Rule.objects.exists()
    with pytest.raises(rules.RuleInvalid):
        rules_yaml.rules_import_yaml(text="rules: [: bad")
