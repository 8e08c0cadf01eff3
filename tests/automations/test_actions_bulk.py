"""Phase 2 runs each action of a rule once per chunk of executions (set-based), with outcomes per execution."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, Activity, Task
from automations import actions, rules
from automations.models import ActionRun, Enrolment, Playbook, PlaybookStep, RuleExecution
from messaging.models import EmailMessage, EmailStatus, Notification, WebhookDelivery, WebhookEndpoint
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.messaging.factories import EmailTemplateFactory

pytestmark = pytest.mark.django_db

LOW_HEALTH = {"all": [{"type": "health_below", "value": 70}]}
EVERYTHING = [
    {"type": "create_task", "title": "Call {{ account.name }}", "priority": "high", "due_in_days": 2},
    {"type": "set_status", "status": "at_risk"},
    {"type": "set_stage", "stage": "at_risk"},
    {"type": "add_tag", "tag": "low-health"},
    {"type": "send_email", "template": "check-in", "to": "contact"},
    {"type": "notify", "to": "owner", "title": "{{ account.name }} is low", "email": True},
    {"type": "enrol_playbook", "playbook": "rescue"},
    {"type": "webhook", "event": "rule.fired"},
]


@pytest.fixture
def setup(monkeypatch):
    monkeypatch.setattr("messaging.tasks.deliver_webhook.delay", lambda pk: None)
    WebhookEndpoint.objects.create(
        url="https://crm.example.com/hook", events=["rule.fired", "task.created", "account.status_changed"], secret="s"
    )
    EmailTemplateFactory(key="check-in", subject="Checking in, {{ account.name }}")
    playbook = Playbook.objects.create(key="rescue", name="Rescue")
    PlaybookStep.objects.create(playbook=playbook, order=1, kind="task", config={"title": "Rescue call"})
    return UserFactory(username="olive", email="olive@example.com", role="CSM")


def _book(owner, n: int, start: int = 0) -> list:
    accounts = [AccountFactory(name=f"Low {i}", health_score=40, owner=owner, status="active") for i in range(start, n)]
    for account in accounts:
        ContactFactory(account=account, email=f"c{account.pk}@low.example", is_primary=True)
    return accounts


def _rule(actions_list=EVERYTHING, **kw):
    return rules.rule_save(key="low", name="Low health", conditions_tree=LOW_HEALTH, actions_list=actions_list,
                           enabled=True, **kw)  # fmt: skip


def _phase2_queries(owner, n: int, start: int) -> int:
    _book(owner, n, start)
    rule = _rule()
    rules.rule_evaluate(rule=rule)
    with CaptureQueriesContext(connection) as ctx:
        assert rules.executions_run_pending(chunk=500) == n - start
    Account.objects.all().delete()
    return len(ctx.captured_queries)


def test_every_action_runs_set_based_the_queries_do_not_grow_with_the_accounts(setup, monkeypatch):
    # What runs after commit (sending each email, advancing each enrolment) is other workers' work.
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, using=None, robust=False: None)
    few = _phase2_queries(setup, 3, 0)
    many = _phase2_queries(setup, 33, 3)  # ten times as many accounts
    assert many <= few + 2, (few, many)


def test_set_based_actions_do_what_the_single_ones_do(setup):
    accounts = _book(setup, 4)
    _rule()
    rules.rules_cycle()
    assert set(RuleExecution.objects.values_list("status", flat=True)) == {"succeeded"}
    assert ActionRun.objects.filter(ok=True).count() == 4 * len(EVERYTHING)
    for account in accounts:
        account.refresh_from_db()
        assert (account.status, account.lifecycle_stage) == ("at_risk", "at_risk")
        assert list(account.tags.values_list("name", flat=True)) == ["low-health"]
        task = Task.objects.get(account=account, source="rule")
        assert (task.title, task.assignee, task.priority, task.source) == (
            f"Call {account.name}",
            setup,
            "high",
            "rule",
        )
        assert "Health score: 40" in task.description
        assert RuleExecution.objects.get(account=account).task == task
        assert Activity.objects.filter(account=account, kind="change").count() == 3  # audited: status, stage and tag
        assert Notification.objects.get(account=account).title == f"{account.name} is low"
        assert Enrolment.objects.get(account=account).status == "completed"
    # One customer email per contact, one notification email per execution to the owner.
    customer = EmailMessage.objects.filter(source="rule")
    assert sorted(customer.values_list("to_email", flat=True)) == sorted(f"c{a.pk}@low.example" for a in accounts)
    assert EmailMessage.objects.filter(source="notification", to_email="olive@example.com").count() == 4
    assert {d.payload["data"]["account"]["id"] for d in WebhookDelivery.objects.filter(event="rule.fired")} == {
        a.pk for a in accounts
    }
    assert WebhookDelivery.objects.filter(event="task.created").count() == 8  # the rule's and the playbook's
    assert WebhookDelivery.objects.filter(event="account.status_changed").count() == 4


def test_a_failure_of_one_account_is_that_execution_s_failure_only(setup):
    with_contact, without = _book(setup, 1)[0], AccountFactory(name="No contact", health_score=40, owner=setup)
    _rule([{"type": "send_email", "template": "check-in", "to": "contact"}, {"type": "create_task", "title": "T"}])
    rules.rules_cycle()
    assert RuleExecution.objects.get(account=with_contact).status == "succeeded"
    execution = RuleExecution.objects.get(account=without)
    assert execution.status == "partial"
    failed = ActionRun.objects.get(execution=execution, ok=False)
    assert failed.kind == "send_email" and "no contact" in failed.detail
    assert Task.objects.filter(account=without).count() == 1


def test_a_misconfigured_action_fails_for_every_execution_and_the_others_still_run(setup):
    _book(setup, 3)
    _rule([{"type": "set_status", "status": "bogus"}, {"type": "add_tag", "tag": "seen"}])
    rules.rules_cycle()
    assert set(RuleExecution.objects.values_list("status", flat=True)) == {"partial"}
    assert set(ActionRun.objects.filter(ok=False).values_list("detail", flat=True)) == {"Unknown status 'bogus'."}
    assert ActionRun.objects.filter(ok=True, kind="add_tag").count() == 3


def test_an_unexpected_error_of_a_set_based_action_falls_back_to_one_by_one(setup, monkeypatch):
    accounts = _book(setup, 3)
    bad = accounts[1]

    def broken(spec, ctxs):
        raise RuntimeError("bulk insert failed")

    def single(spec, ctx):
        if ctx.account.pk == bad.pk:
            raise RuntimeError("this account's row is bad")
        return "tagged"

    monkeypatch.setitem(actions.MANY, "add_tag", broken)
    monkeypatch.setitem(actions.ACTIONS, "add_tag", ("Add tag", single))
    _rule([{"type": "add_tag", "tag": "x"}])
    rules.rules_cycle()
    statuses = dict(RuleExecution.objects.values_list("account_id", "status"))
    assert statuses == {accounts[0].pk: "succeeded", bad.pk: "failed", accounts[2].pk: "succeeded"}
    assert ActionRun.objects.get(execution__account=bad).detail == "this account's row is bad"


def test_the_frequency_cap_counts_the_emails_of_the_same_chunk(setup):
    account = _book(setup, 1)[0]
    _rule([{"type": "send_email", "template": "check-in", "to": "contact"},
           {"type": "send_email", "template": "check-in", "to": "contact"}])  # fmt: skip
    rules.rules_cycle()
    statuses = list(EmailMessage.objects.filter(account=account).order_by("pk").values_list("status", flat=True))
    assert statuses[0] in (EmailStatus.QUEUED, EmailStatus.SENT) and statuses[1:] == [EmailStatus.SUPPRESSED]
    assert "Frequency cap" in ActionRun.objects.get(index=1).detail


def test_chunks_rerun_and_single_runs_duplicate_nothing(setup):
    _book(setup, 5)
    rule = _rule([{"type": "create_task", "title": "Once"}, {"type": "send_email", "template": "check-in"}])
    rules.rule_evaluate(rule=rule)
    assert rules.executions_run_pending(chunk=2) == 5
    assert rules.executions_run_pending(chunk=2) == 0
    for execution in RuleExecution.objects.all():
        rules.execution_run(execution=execution)  # a retried execution skips the actions it ran
    assert Task.objects.count() == 5 and EmailMessage.objects.count() == 5
    assert ActionRun.objects.count() == 10


def test_limit_stops_after_that_many_executions(setup):
    _book(setup, 5)
    rules.rule_evaluate(rule=_rule([{"type": "add_tag", "tag": "x"}]))
    assert rules.executions_run_pending(limit=3, chunk=2) == 3
    assert RuleExecution.objects.filter(status="pending").count() == 2


def test_deleting_an_account_or_a_rule_deletes_its_executions(setup):
    gone, kept = _book(setup, 2)
    rule = _rule([{"type": "add_tag", "tag": "x"}])
    rules.rules_cycle()
    gone.delete()
    assert list(RuleExecution.objects.values_list("account_id", flat=True)) == [kept.pk]
    rule.delete()
    assert not RuleExecution.objects.exists() and not ActionRun.objects.exists()
