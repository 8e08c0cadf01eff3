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
    after = HealthSnapshot.objects.get(account=account, day=timezone.localdate())
    print(f"detractor answer → task in {latency:.1f} s")
    assert latency < 30
    assert after.scored_at > before.scored_at and after.score < before.score  # rescored with the answer
    assert not ScoreMark.objects.exists()
