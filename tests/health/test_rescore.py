"""Incremental health: every door that stores a fact feeding the score marks its account in the same transaction,
the rescoring scores the marked accounts among everyone's stored metrics, and the result equals a full run."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import time_machine
from django.db import transaction

from accounts import services as account_services
from accounts.imports.services.writes import upsert_one
from automations.models import Rule
from churnapp.apikeys import api_key_create
from health import scores, services, tasks
from health.models import HealthSnapshot, ScoreMark
from health.rollups import rollups_rebuild, rollups_refresh
from tests.factories import AccountFactory, SubscriptionFactory, SupportTicketFactory
from tests.health.factories import at, events

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 31)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 31, 15, 0, tzinfo=dt.UTC), tick=True):
        yield


def _book(n: int = 8) -> list:
    """Accounts with subscriptions and different usage, scored by a full run of today."""
    accounts = [AccountFactory(external_id=f"acc-{i}", segment="smb" if i % 2 else "") for i in range(n)]
    for i, account in enumerate(accounts):
        SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1), quantity=2, mrr=100 * (i + 1))
        for offset in range(0, 30, 1 + i % 4):
            events(account, TODAY - dt.timedelta(days=offset), ["campaign_sent", "report_viewed", "template_edited"])
    rollups_rebuild()
    services.health_recompute()
    ScoreMark.objects.all().delete()
    return accounts


def _snapshots() -> dict[int, tuple]:
    return {s.account_id: (s.score, s.band) for s in HealthSnapshot.objects.filter(day=TODAY)}


def test_incremental_rescoring_equals_a_full_run():
    accounts = _book()
    quiet, stormy, detractor = accounts[0], accounts[3], accounts[5]
    # New facts of three kinds, through the doors the product uses.
    with transaction.atomic():
        for day in range(30):
            events(quiet, TODAY - dt.timedelta(days=day), ["login"])  # usage without key events
        rollups_refresh(account_day_pairs=[(quiet.pk, TODAY - dt.timedelta(days=d)) for d in range(30)])
    for n in range(4):
        upsert_one(kind="tickets", row={"account": stormy.external_id, "external_id": f"storm-{n}",
                                        "subject": "Exports fail", "opened_at": at(TODAY).isoformat()})  # fmt: skip
    account_services.survey_response_create(account=detractor, kind="nps", score=1)
    assert set(ScoreMark.objects.values_list("account_id", flat=True)) == {quiet.pk, stormy.pk, detractor.pk}

    result = services.rescore_marked()
    assert result["accounts"] == 3 and not ScoreMark.objects.exists()
    incremental = _snapshots()
    factors = {
        s.account_id: s.factors for s in HealthSnapshot.objects.filter(day=TODAY, account__in=[stormy, detractor])
    }
    services.health_recompute()
    assert _snapshots() == incremental
    assert {
        s.account_id: s.factors for s in HealthSnapshot.objects.filter(day=TODAY, account__in=[stormy, detractor])
    } == factors
    stormy.refresh_from_db()
    assert (stormy.health_score, stormy.health_band) == incremental[stormy.pk]
    assert stormy.health_scored_at == HealthSnapshot.objects.get(account=stormy, day=TODAY).scored_at


def test_batches_reuse_the_peers_they_read_until_another_writer_changes_them(
    monkeypatch, django_capture_on_commit_callbacks
):
    from health import rescore
    from health.models import AccountMetrics

    accounts = _book(6)
    reads, frames = [], []
    read = rescore._stored_metrics
    monkeypatch.setattr(rescore, "_stored_metrics", lambda day: reads.append(day) or read(day))
    score = scores.score_with_versions
    monkeypatch.setattr(scores, "score_with_versions", lambda f, v: frames.append(f.copy()) or score(f, v))

    for batch in ([accounts[0].pk], [accounts[1].pk]):
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                services.health_rescore(account_ids=batch)
    assert len(reads) == 1  # the second batch scored among the copy the first one kept up to date
    pd.testing.assert_frame_equal(frames[1], read(TODAY), check_dtype=False, check_like=True, check_names=False)

    # Another writer (another worker, the full run) replaces a row: the next batch reads the table again.
    AccountMetrics.objects.filter(account=accounts[5], day=TODAY).update(events_30=9999)
    row = AccountMetrics.objects.get(account=accounts[5], day=TODAY)
    row.pk = None
    AccountMetrics.objects.filter(account=accounts[5], day=TODAY).delete()
    row.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.health_rescore(account_ids=[accounts[2].pk])
    assert len(reads) == 2 and frames[-1].at[accounts[5].pk, "events_30"] == 9999


def test_each_door_marks_the_account_in_its_own_transaction(client, csm):
    account = AccountFactory(external_id="acc-d", owner=csm)
    _, key = api_key_create(name="crm", scopes=["write"])
    auth = {"authorization": f"Bearer {key}"}

    def marked() -> bool:
        found = ScoreMark.objects.filter(account=account).exists()
        ScoreMark.objects.all().delete()
        return found

    response = client.post("/api/v1/tickets/", {"account": "acc-d", "external_id": "T-9", "subject": "Help",
                                               "opened_at": "2026-03-30T10:00:00Z"}, content_type="application/json",
                           headers=auth)  # fmt: skip
    assert response.status_code == 201, response.content
    assert marked()
    ticket_id = response.json()["id"]
    assert client.patch(f"/api/v1/tickets/{ticket_id}/", {"status": "resolved"}, content_type="application/json",
                        headers=auth).status_code == 200  # fmt: skip
    assert marked()
    assert client.delete(f"/api/v1/tickets/{ticket_id}/", headers=auth).status_code == 204
    assert marked()
    assert client.put("/api/v1/tickets/by-external-id/T-10/", {"account": "acc-d", "subject": "Again",
                      "opened_at": "2026-03-30T11:00:00Z"}, content_type="application/json",
                      headers=auth).status_code == 201  # fmt: skip
    assert marked()
    account_services.survey_response_create(account=account, kind="csat", score=2)
    assert marked()
    services.sentiment_create(account=account, rating=1, comment="Champion left", expires_on=dt.date(2099, 1, 1),
                              author=csm)  # fmt: skip
    assert marked()
    SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1))
    account_services.subscriptions_pause(account=account, start_date=TODAY, resume_date=TODAY + dt.timedelta(days=30),
                                         actor=csm)  # fmt: skip
    assert marked()
    events(account, TODAY, ["login"])
    rollups_refresh(account_day_pairs=[(account.pk, TODAY)])
    assert marked()
    # An unchanged upsert is no new fact.
    upsert_one(kind="tickets", row={"account": "acc-d", "external_id": "T-10", "subject": "Again",
                                    "opened_at": "2026-03-30T11:00:00Z"})  # fmt: skip
    assert not marked()


def test_a_failed_rescoring_keeps_its_marks(monkeypatch):
    accounts = _book(3)
    SupportTicketFactory(account=accounts[0], opened_at=at(TODAY))
    account_services.survey_response_create(account=accounts[0], kind="nps", score=2)

    def crash(*args, **kwargs):
        raise RuntimeError("worker lost mid-rescoring")

    monkeypatch.setattr(scores, "snapshot_rows", crash)
    with pytest.raises(RuntimeError):
        services.rescore_marked()
    assert list(ScoreMark.objects.values_list("account_id", flat=True)) == [accounts[0].pk]


def test_a_flooded_account_keeps_its_place_in_the_queue(monkeypatch):
    """An account marked again and again keeps its first mark's time, so a flood of facts for one account neither
    pushes it behind the others nor lets it go first every time."""
    from health import rescore

    accounts = _book(4)
    scores_mark = rescore.scores_mark
    scores_mark([accounts[0].pk])
    for account in accounts[1:]:
        with time_machine.travel(dt.timedelta(seconds=5)):
            scores_mark([account.pk])
    for _ in range(3):
        with time_machine.travel(dt.timedelta(seconds=10)):
            scores_mark([accounts[0].pk])  # the flood
    claimed = []
    monkeypatch.setattr(rescore, "health_rescore", lambda *, account_ids: claimed.append(account_ids) or {})
    while ScoreMark.objects.exists():
        rescore.rescore_marked(limit=2)
    assert claimed == [[accounts[0].pk, accounts[1].pk], [accounts[2].pk, accounts[3].pk]]


def test_accounts_with_new_facts_are_rescored_before_those_whose_usage_only_changed(monkeypatch):
    from health import rescore

    accounts = _book(4)
    rescore.scores_mark_routine([accounts[0].pk, accounts[1].pk])  # usage, first
    with time_machine.travel(dt.timedelta(seconds=5)):
        rescore.scores_mark([accounts[2].pk])  # a ticket, later
        rescore.scores_mark_routine([accounts[2].pk])  # and usage: it stays urgent
        rescore.scores_mark([accounts[1].pk])  # a survey answer: urgent now, its first time kept
    assert dict(ScoreMark.objects.values_list("account_id", "routine")) == {
        accounts[0].pk: True, accounts[1].pk: False, accounts[2].pk: False
    }  # fmt: skip
    claimed = []
    monkeypatch.setattr(rescore, "health_rescore", lambda *, account_ids: claimed.append(account_ids) or {})
    while ScoreMark.objects.exists():
        rescore.rescore_marked(limit=1)
    assert claimed == [[accounts[1].pk], [accounts[2].pk], [accounts[0].pk]]


def test_before_the_days_full_run_the_task_queues_it_once_and_it_clears_the_marks(monkeypatch):
    account = AccountFactory()
    SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1))
    account_services.survey_response_create(account=account, kind="nps", score=9)
    queued = []
    monkeypatch.setattr(tasks.recompute_health, "delay", lambda *a, **k: queued.append(1))
    tasks.cache.delete(tasks.FULL_RUN_QUEUED_KEY)
    tasks.rescore_accounts()
    tasks.rescore_accounts()
    assert queued == [1] and ScoreMark.objects.exists()
    services.health_recompute()
    assert not ScoreMark.objects.exists()
    assert HealthSnapshot.objects.filter(account=account, day=TODAY).exists()


def test_a_rescored_account_is_evaluated_by_the_rules_at_once(django_capture_on_commit_callbacks):
    from accounts.models import Task

    accounts = _book(4)
    target = accounts[1]
    target.refresh_from_db()
    before = target.health_score
    # Fires below the target's score of this morning: only a rescoring of the target can make it match.
    Rule.objects.create(key="dropped-today", name="Dropped today", enabled=True, cooldown_days=1,
                        conditions={"all": [{"type": "health_below", "value": before}]},
                        actions=[{"type": "create_task", "title": "Health fell: call {{ account.name }}"}])  # fmt: skip
    tasks.cache.delete(tasks.RESCORE_QUEUED_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            for _ in range(6):
                SupportTicketFactory(account=target, opened_at=at(TODAY))
            account_services.survey_response_create(account=target, kind="nps", score=0)
        services.sentiment_create(account=target, rating=1, comment="Angry", expires_on=dt.date(2099, 1, 1),
                                  author=None)  # fmt: skip
    target.refresh_from_db()
    assert target.health_score < before
    assert list(Task.objects.values_list("account_id", flat=True)) == [target.pk]
    assert not ScoreMark.objects.exists()
