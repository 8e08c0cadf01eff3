"""My day's task list redraws itself when a task lands: a cheap version check answers 204 until then."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.selectors import my_tasks_version
from accounts.services import task_complete, task_create
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_the_task_list_answers_204_until_its_version_changes(client, csm, own_account, django_assert_max_num_queries):
    client.force_login(csm)
    page = client.get(reverse("home"))
    version = my_tasks_version(user=csm)
    assert f"?v={version}" in page.content.decode()
    url = reverse("my-day-tasks") + f"?v={version}"
    with django_assert_max_num_queries(4):  # session, user, the version aggregate
        assert client.get(url).status_code == 204

    task = task_create(account=own_account, title="Call about the renewal", created_by=None, assignee=csm)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Call about the renewal" in html and 'id="my-tasks"' in html
    shown = my_tasks_version(user=csm)
    assert f"?v={shown}" in html and shown != version

    task_complete(task=task, actor=csm)  # closed elsewhere (another tab, the API): the list redraws empty
    assert "No open tasks" in client.get(reverse("my-day-tasks") + f"?v={shown}").content.decode()


def test_someone_elses_new_task_does_not_redraw_my_list(client, csm, teammate):
    client.force_login(csm)
    version = my_tasks_version(user=csm)
    task_create(account=AccountFactory(owner=teammate), title="Theirs", created_by=None, assignee=teammate)
    assert client.get(reverse("my-day-tasks") + f"?v={version}").status_code == 204


def test_at_risk_accounts_say_when_their_health_was_scored(client, csm):
    import datetime as dt

    from django.utils import timezone

    from accounts.models import Account
    from accounts.services import account_set_health_bulk

    account = AccountFactory(owner=csm, name="Reddish")
    scored = timezone.now() - dt.timedelta(minutes=3)
    account_set_health_bulk(rows=[{"account_id": account.pk, "health_score": 31, "health_band": "red",
                                   "health_trend": None, "health_scored_at": scored}])  # fmt: skip
    assert Account.objects.get(pk=account.pk).health_scored_at == scored
    client.force_login(csm)
    page = client.get("/").content.decode()
    assert "Reddish" in page and "scored 3\xa0minutes ago" in page
