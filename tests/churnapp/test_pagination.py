"""Every list that can grow shows one page of rows with the total and links to the other pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from automations import rules
from automations.models import RuleExecution
from health.models import ChurnModelVersion, ChurnPrediction
from tests.factories import AccountFactory, TaskFactory
from tests.messaging.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_rule_execution_log_is_paginated_with_its_count(client, manager):
    rule = rules.rule_save(key="k", name="N", conditions_tree={"type": "health_below", "value": 5},
                           actions_list=[{"type": "notify"}])  # fmt: skip
    accounts = AccountFactory.create_batch(55)
    RuleExecution.objects.bulk_create(
        [RuleExecution(rule=rule, account=a, window=i, matched={"Last seen": "2026-11-22T15:45:44+00:00"})
         for i, a in enumerate(accounts)]
    )  # fmt: skip
    client.force_login(manager)
    html = client.get(reverse("automations:rule-detail", args=[rule.pk])).content.decode()
    assert "55 executions" in html and "Page 1 of 2 · 55 in all" in html
    assert "2026-11-22T15:45:44" not in html and "Nov 22, 2026" in html
    assert "Page 2 of 2" in client.get(reverse("automations:rule-detail", args=[rule.pk]), {"page": 2}).content.decode()


def test_notifications_are_paginated_with_their_count(client, csm):
    NotificationFactory.create_batch(60, user=csm)
    client.force_login(csm)
    html = client.get(reverse("messaging:notification-list")).content.decode()
    assert "60 notifications, 60 unread" in html and "Page 1 of 2 · 60 in all" in html


def test_account_tasks_section_is_paginated_in_place(client, csm):
    account = AccountFactory(owner=csm)
    TaskFactory.create_batch(25, account=account, assignee=csm)
    client.force_login(csm)
    url = reverse("account-section", args=[account.pk, "tasks"])
    html = client.get(url).content.decode()
    assert "25 tasks (open first)" in html and "Page 1 of 2 · 25 in all" in html
    assert f'hx-get="{url}?page=2" hx-target="#tasks"' in html
    assert html.count('class="task-row"') == 20


def test_priorities_are_paginated_and_numbered_across_pages(client, manager):
    model = ChurnModelVersion.objects.create(status="promoted", metrics={"auc": 0.8})
    day = timezone.localdate()
    for i in range(60):
        ChurnPrediction.objects.create(account=AccountFactory(), day=day, model=model, probability=0.5,
                                       expected_saved=1000 - i, drivers=[])  # fmt: skip
    client.force_login(manager)
    second = client.get(reverse("health:priorities"), {"scope": "all", "page": 2}).content.decode()
    assert "60 accounts ranked" in second and "Page 2 of 2" in second
    assert '<td class="num">51</td>' in second


def test_the_pagination_partial_never_prints_its_own_comment(client, csm):
    account = AccountFactory(owner=csm)
    TaskFactory(account=account, assignee=csm)
    client.force_login(csm)
    html = client.get(reverse("account-section", args=[account.pk, "tasks"])).content.decode()
    assert "Pages of a list" not in html and "{#" not in html
