"""Real time with a real worker: a detractor's answer, posted to the API, is scored and becomes the CSM's task
within seconds, without waiting for a rule cycle or the nightly run."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from accounts.models import Task
from automations.models import Rule
from churnapp.apikeys import api_key_create
from health.models import HealthSnapshot, ScoreMark
from health.services import health_recompute
from tests.factories import AccountFactory, SubscriptionFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_detractor_answer_becomes_a_task_within_seconds(client, celery_worker_process, wait_for):
    csm = UserFactory(username="casey", role="CSM")
    account = AccountFactory(external_id="acc-rt", owner=csm)
    SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1), quantity=3)
    health_recompute()
    before = HealthSnapshot.objects.get(account=account, day=timezone.localdate())
    Rule.objects.create(key="detractor-now", name="Detractor", enabled=True,
                        conditions={"all": [{"type": "nps_at_most", "value": 6}]},
                        actions=[{"type": "create_task", "title": "Detractor: call {{ account.name }}"}])  # fmt: skip
    _, key = api_key_create(name="crm", scopes=["write"])
    sent = time.monotonic()
    response = client.post("/api/v1/survey-responses/", {"account": "acc-rt", "kind": "nps", "score": 1,
                           "responded_at": timezone.now().isoformat()}, content_type="application/json",
                           headers={"authorization": f"Bearer {key}"})  # fmt: skip
    assert response.status_code == 201, response.content
    wait_for(lambda: Task.objects.filter(account=account, title__startswith="Detractor").exists(), timeout=60,
             message="the rule's task")  # fmt: skip
    latency = time.monotonic() - sent
    print(f"detractor answer → task in {latency:.1f} s")
    assert latency < 30
    # The rule reads the answer itself, so its task may come before the rescoring the answer also queued.
    snapshot = HealthSnapshot.objects.filter(account=account, day=timezone.localdate())
    wait_for(lambda: snapshot.get().scored_at > before.scored_at, timeout=60, message="the rescoring")
    assert snapshot.get().score < before.score  # rescored with the answer
    assert not ScoreMark.objects.exists()


def test_no_login_for_10_days_fires_within_seconds_of_the_moment_it_becomes_true(celery_worker_with_beat, wait_for):
    """The crossing tick (beat, every 15 s) evaluates the account whose inactivity crosses 10 days, and only it."""
    crossing = AccountFactory(name="Crossing", last_seen_at=timezone.now() - dt.timedelta(days=10, seconds=-20))
    long_idle = AccountFactory(name="Long idle", last_seen_at=timezone.now() - dt.timedelta(days=60))
    Rule.objects.create(key="idle-10", name="Idle", enabled=True, conditions={"type": "inactive_days", "days": 10},
                        actions=[{"type": "create_task", "title": "Idle: {{ account.name }}"}])  # fmt: skip
    crosses_at = crossing.last_seen_at + dt.timedelta(days=10)
    wait_for(lambda: Task.objects.filter(account=crossing).exists(), timeout=90, message="the crossing's task")
    lag = (Task.objects.get(account=crossing).created_at - crosses_at).total_seconds()
    print(f"inactivity crossed → task in {lag:.1f} s")
    assert 0 <= lag < 45
    assert not Task.objects.filter(account=long_idle).exists()  # it matches too: left to the full cycle
