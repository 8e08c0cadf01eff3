"""The rule backtest over the API (figures, 400 per field, scopes) and on the rule page and editor (htmx partials,
roles), with schemathesis over POST /api/v1/rule-backtests/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from automations.rules import rule_save
from health.models import HealthProfile, HealthProfileVersion, HealthSnapshot
from tests.factories import AccountFactory, SubscriptionFactory
from tests.schemathesis_support import api_key_headers, api_schema, call_and_validate, fuzz_settings

pytestmark = pytest.mark.django_db

OPERATIONS = r"^/api/v1/rule-backtests/"
schema = api_schema(OPERATIONS)
TREE = {"type": "health_below", "value": 70}


@pytest.fixture
def history():
    """One account below 70 from 120 to 100 days ago, which churned (subscription ended) 60 days ago; one healthy."""
    version = HealthProfileVersion.objects.filter(status="published").first()
    if version is None:
        profile = HealthProfile.objects.create(name="Default")
        version = HealthProfileVersion.objects.create(profile=profile, number=1, status="published")
    today = timezone.localdate()
    low = AccountFactory(name="Low Co", created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    SubscriptionFactory(account=low, start_date=dt.date(2024, 1, 1), end_date=today - dt.timedelta(days=60))
    fine = AccountFactory(name="Fine Co", created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    SubscriptionFactory(account=fine, start_date=dt.date(2024, 1, 1))
    HealthSnapshot.objects.bulk_create(
        [HealthSnapshot(account=account, day=today - dt.timedelta(days=n), version=version,
                        score=50 if account == low and 100 <= n <= 120 else 90)
         for account in (low, fine) for n in range(1, 200)]
    )  # fmt: skip
    return rule_save(key="low-health", name="Low health", conditions_tree=TREE, cooldown_days=30,
                     actions_list=[{"type": "create_task", "title": "Call"}])  # fmt: skip


def _post(client, body, headers=None):
    return client.post("/api/v1/rule-backtests/", body, content_type="application/json", headers=headers or {})


def test_api_backtests_a_saved_rule_and_a_draft(client, history):
    headers = api_key_headers("read")
    saved = _post(client, {"rule": "low-health", "months": 6}, headers)
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert (body["fires"], body["accounts_fired"], body["fired_and_churned"], body["churned"]) == (1, 1, 1, 1)
    assert (body["precision"], body["recall"]) == (1.0, 1.0)
    assert 0 < body["base_rate"] < 1 and body["lift"] == pytest.approx(1 / body["base_rate"])
    assert body["first_fired"][0]["name"] == "Low Co"
    assert sum(week["tasks"] for week in body["weekly"]) == 1
    draft = _post(client, {"conditions": TREE, "actions": [{"type": "send_email", "template": "x"}],
                           "cooldown_days": 7, "months": 6}, headers)  # fmt: skip
    assert draft.status_code == 200
    assert (draft.json()["fires"], draft.json()["emails_per_week"] > 0) == (3, True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rule": "no-such-rule"}, "rule"),
        ({}, "rule"),
        ({"rule": "low-health", "conditions": TREE}, "rule"),
        ({"conditions": {"type": "nope"}}, "conditions"),
        ({"conditions": {"type": "inactive_days", "days": 10**9}}, "conditions"),
        ({"conditions": TREE, "actions": [{"type": "nope"}]}, "actions"),
        ({"conditions": TREE, "months": 0}, "months"),
        ({"conditions": TREE, "months": 25}, "months"),
        ({"conditions": TREE, "cooldown_days": -1}, "cooldown_days"),
    ],
)
def test_api_bad_input_is_a_400_per_field(client, history, body, field):
    response = _post(client, body, api_key_headers("read"))
    assert response.status_code == 400
    assert field in response.json()


def test_api_leaf_without_history_is_a_clear_400(client, history, monkeypatch):
    from automations.backtest import evaluate

    monkeypatch.delitem(evaluate.HISTORY, "milestone_missed")
    response = _post(client, {"conditions": {"type": "milestone_missed"}}, api_key_headers("read"))
    assert response.status_code == 400
    assert "Cannot be backtested: milestone_missed" in response.json()["conditions"][0]


def test_api_scopes(client, history):
    for scopes, status in ((("ingest",), 403), (("write",), 403), (("read",), 200), (("admin",), 200)):
        assert _post(client, {"rule": "low-health", "months": 1}, api_key_headers(*scopes)).status_code == status
    assert _post(client, {"rule": "low-health"}).status_code in (401, 403)


def test_rule_page_backtest(client, viewer, history):
    client.force_login(viewer)
    page = client.get(reverse("automations:rule-detail", args=[history.pk]))
    assert reverse("automations:rule-backtest", args=[history.pk]).encode() in page.content
    response = client.get(reverse("automations:rule-backtest", args=[history.pk]), {"months": 6})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="backtest-fires"' in html and "Low Co" in html and "1.000" in html
    bad = client.get(reverse("automations:rule-backtest", args=[history.pk]), {"months": 99})
    assert 'id="backtest-errors"' in bad.content.decode()


def test_editor_backtests_the_draft(client, manager, viewer, history):
    data = {
        "key": "draft",
        "name": "Draft",
        "cooldown_days": 7,
        "join": "all",
        "cond_0_type": "health_below",
        "cond_0_params": "value=70",
        "act_0_type": "create_task",
        "act_0_params": "title=Call",
        "months": 6,
    }
    client.force_login(viewer)
    assert client.post(reverse("automations:rule-backtest-draft"), data).status_code == 403
    client.force_login(manager)
    editor = client.get(reverse("automations:rule-edit", args=[history.pk]))
    assert reverse("automations:rule-backtest-draft").encode() in editor.content
    response = client.post(reverse("automations:rule-backtest-draft"), data)
    assert response.status_code == 200
    assert "Low Co" in response.content.decode(), response.content.decode()[:2000]


def test_editor_shows_why_a_draft_cannot_be_backtested(client, manager, history, monkeypatch):
    from automations.backtest import evaluate

    monkeypatch.delitem(evaluate.HISTORY, "milestone_missed")
    client.force_login(manager)
    data = {
        "key": "draft",
        "name": "Draft",
        "cooldown_days": 7,
        "join": "all",
        "cond_0_type": "milestone_missed",
        "cond_0_params": "",
        "act_0_type": "create_task",
        "act_0_params": "title=Call",
    }
    html = client.post(reverse("automations:rule-backtest-draft"), data).content.decode()
    assert 'id="backtest-errors"' in html and "milestone_missed" in html


@pytest.fixture
def admin_key_headers(db, wsgi_keeps_test_connection, history):
    return api_key_headers("admin")


@schema.parametrize()
@fuzz_settings(20)
def test_rule_backtest_api_conforms_to_its_schema(case, admin_key_headers, monkeypatch):
    call_and_validate(case, admin_key_headers, monkeypatch)
