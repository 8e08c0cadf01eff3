from __future__ import annotations

import pytest
from django.core.management import call_command

from automations import builtins, conditions
from automations.models import Journey, Playbook, Rule
from automations.rules import rules_cycle
from messaging.models import EmailTemplate
from tests.factories import AccountFactory, ContactFactory, SupportTicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_builtins_install_everything_once():
    first = builtins.builtins_install()
    assert first == {"email_templates": 7, "playbooks": 9, "rules": 14, "journeys": 2}
    assert builtins.builtins_install() == {"email_templates": 0, "playbooks": 0, "rules": 0, "journeys": 0}
    assert not Rule.objects.filter(enabled=True).exists()
    table = {"inactive-14-days", "onboarding-milestone-missed", "nps-below-7", "several-tickets", "churned-45-days"}
    assert table <= set(Playbook.objects.values_list("key", flat=True))
    assert Journey.objects.get(key="onboarding").milestones.filter(due_days__isnull=False).count() == 3
    for rule in Rule.objects.all():
        conditions.validate(rule.conditions)
    for template in EmailTemplate.objects.all():
        assert template.subject and template.body_text


def test_example_rules_run_on_data(settings):
    call_command("automations_install_builtins", "--enable-rules")
    owner = UserFactory(username="olive")
    UserFactory(username="lead", role="Manager")
    busy = AccountFactory(owner=owner, status="active", health_score=55)
    ContactFactory(account=busy, email="dana@busy.example")
    for _ in range(3):
        SupportTicketFactory(account=busy)
    rules_cycle()
    busy.refresh_from_db()
    assert busy.status == "at_risk"
    titles = set(busy.tasks.values_list("title", flat=True))
    assert "Health 55: follow up with " + busy.name in titles
    assert any("3 tickets in 7 days" in t for t in titles)
    assert busy.email_messages.filter(template__key="proactive-check-in").exists()


def test_built_in_task_titles_name_the_account_once_wherever_tasks_of_several_accounts_are_listed(client, csm):
    import datetime as dt
    import re

    from django.core import mail
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import Task
    from messaging.notifications import task_digest_send
    from tests.factories import TaskFactory

    call_command("automations_install_builtins", "--enable-rules")
    UserFactory(username="lead", role="Manager")
    account = AccountFactory(owner=csm, name="Ecolux Media", status="active", health_score=55)
    ContactFactory(account=account)
    for _ in range(3):
        SupportTicketFactory(account=account)
    rules_cycle()
    TaskFactory(account=account, assignee=csm, title="Milestone missed: Account setup", source="journey")
    tasks = Task.objects.filter(account=account, assignee=csm)
    assert tasks.count() >= 2 and any(t.names_account for t in tasks) and not all(t.names_account for t in tasks)
    tasks.update(due_date=timezone.localdate() - dt.timedelta(days=1))

    client.force_login(csm)
    html = client.get(reverse("home")).content.decode()
    rows = re.findall(r'<li class="task-row".*?</li>', html, flags=re.S)
    assert len(rows) == tasks.count()
    for row in rows:
        visible = re.sub(r'aria-label="[^"]*"', "", row)  # the Done button repeats the title for screen readers
        assert visible.count("Ecolux Media") == 1, row

    assert task_digest_send() == 1
    lines = [line for line in mail.outbox[-1].body.splitlines() if line.startswith("- ")]
    assert len(lines) == tasks.count()
    assert all(line.count("Ecolux Media") == 1 for line in lines), lines
