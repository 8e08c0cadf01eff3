from __future__ import annotations

import datetime as dt

import pytest

from health.models import FeatureFirstUse, UsageDaily
from health.rollups import rollups_mark, rollups_rebuild, rollups_refresh, rollups_sweep
from health.tasks import refresh_rollups
from tests.factories import AccountFactory
from tests.health.factories import events

pytestmark = pytest.mark.django_db
D = dt.date(2026, 3, 10)


def test_rollup_counts_events_users_and_meaningful_days():
    account = AccountFactory()
    events(account, D, ["login", "campaign_sent", "report_viewed"], user="a")
    events(account, D, ["login"], user="b")
    events(account, D, ["payment_failed"], user="")
    rollups_refresh(account_day_pairs=[(account.pk, D)])
    row = UsageDaily.objects.get(account=account, day=D)
    assert (row.events, row.key_events, row.active_users, row.meaningful, row.payment_failures) == (4, 2, 2, True, 1)
    assert row.by_type == {"login": 2, "campaign_sent": 1, "report_viewed": 1, "payment_failed": 1}


def test_a_bare_login_is_not_meaningful_activity():
    account = AccountFactory()
    events(account, D, ["login", "login", "campaign_sent"], user="a")
    events(account, D, ["report_viewed"], user="b")  # two key events, but by different users
    rollups_refresh(account_day_pairs=[(account.pk, D)])
    assert UsageDaily.objects.get(account=account, day=D).meaningful is False


def test_refresh_touches_only_the_given_pairs_and_is_idempotent():
    a, b = AccountFactory(), AccountFactory()
    events(a, D, ["login"])
    events(b, D, ["login"])
    rollups_refresh(account_day_pairs=[(a.pk, D)])
    rollups_refresh(account_day_pairs=[(a.pk, D)])
    assert list(UsageDaily.objects.values_list("account_id", "events")) == [(a.pk, 1)]
    events(a, D, ["campaign_sent", "campaign_sent"])
    pairs = [[a.pk, D.isoformat()], [b.pk, D.isoformat()]]
    rollups_mark(pairs)  # as every ingest does before it queues the task
    refresh_rollups.delay(pairs)
    assert dict(UsageDaily.objects.values_list("account_id", "events")) == {a.pk: 3, b.pk: 1}
    assert UsageDaily.objects.get(account=a).meaningful is True


def test_refresh_of_a_day_without_events_removes_its_row():
    account = AccountFactory()
    created = events(account, D, ["login"])
    rollups_refresh(account_day_pairs=[(account.pk, D)])
    created[0].delete()
    rollups_refresh(account_day_pairs=[(account.pk, D)])
    assert not UsageDaily.objects.exists()


def test_feature_first_use_keeps_the_earliest_day():
    account = AccountFactory()
    events(account, D, ["campaign_sent"])
    rollups_refresh(account_day_pairs=[(account.pk, D)])
    events(account, D - dt.timedelta(days=5), ["campaign_sent"])
    events(account, D + dt.timedelta(days=5), ["campaign_sent"])
    rollups_refresh(account_day_pairs=[(account.pk, D + dt.timedelta(days=5))])
    assert FeatureFirstUse.objects.get().first_day == D
    rollups_refresh(account_day_pairs=[(account.pk, D - dt.timedelta(days=5))])
    assert FeatureFirstUse.objects.get().first_day == D - dt.timedelta(days=5)


def test_rebuild_equals_incremental_refresh():
    a, b = AccountFactory(), AccountFactory()
    for offset in range(0, 70, 3):
        events(a, D - dt.timedelta(days=offset), ["login", "campaign_sent", "report_viewed"][: 1 + offset % 3])
        events(b, D - dt.timedelta(days=offset), ["login"], user=f"u{offset % 4}")
    rollups_rebuild(chunk_days=10)
    rebuilt = sorted(UsageDaily.objects.values_list("account_id", "day", "events", "active_users", "meaningful"))
    UsageDaily.objects.all().delete()
    rollups_refresh(account_day_pairs=[(acc, D - dt.timedelta(days=o)) for acc in (a.pk, b.pk) for o in range(70)])
    assert (
        sorted(UsageDaily.objects.values_list("account_id", "day", "events", "active_users", "meaningful")) == rebuilt
    )
    assert len(rebuilt) == 48


def test_rebuild_skips_and_reports_an_event_dated_out_of_range():
    from accounts.models import UsageEvent

    account = AccountFactory()
    events(account, D, ["login"])
    far = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    UsageEvent.objects.create(account=account, event_type="login", occurred_at=far, message_id="far-future")
    lines = []
    result = rollups_rebuild(log=lines.append)
    assert (result["rows"], result["skipped"]) == (1, 1)
    assert UsageDaily.objects.get().day == D
    assert "1 events dated outside" in lines[0]
    assert rollups_refresh(account_day_pairs=[(account.pk, far.date())]) == {"pairs": 0, "rows": 0}


def test_a_crashed_rebuild_leaves_the_previous_rollups(monkeypatch):
    from health import rollups

    account = AccountFactory()
    for offset in range(0, 60, 7):
        events(account, D - dt.timedelta(days=offset), ["login"])
    rollups_rebuild()
    before = sorted(UsageDaily.objects.values_list("account_id", "day", "events"))
    assert len(before) == 9
    calls = []

    def crash_on_second_chunk(daily):
        calls.append(1)
        if len(calls) == 2:
            raise OverflowError("date value out of range")
        return original(daily)

    original = rollups._write_daily
    monkeypatch.setattr(rollups, "_write_daily", crash_on_second_chunk)
    with pytest.raises(OverflowError):
        rollups_rebuild(chunk_days=10)
    assert sorted(UsageDaily.objects.values_list("account_id", "day", "events")) == before


# --- Stale marks: the rollups follow every stored event, even when the refresh task is lost ------------------


def test_an_ingest_marks_its_days_stale_in_its_own_transaction_and_the_refresh_clears_them(client, monkeypatch):
    from kombu.exceptions import OperationalError as BrokerError

    from churnapp.apikeys import api_key_create
    from health import tasks
    from health.models import RollupMark

    def broker_down(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.refresh_rollups, "delay", broker_down)
    account = AccountFactory(external_id="acc-1")
    _, key = api_key_create(name="t", scopes=["ingest"])
    sent = [{"type": "track", "userId": "u1", "event": "campaign_sent", "messageId": f"m{i}",
             "timestamp": f"2026-03-1{i}T10:00:00Z", "context": {"groupId": "acc-1"}} for i in range(3)]  # fmt: skip
    response = client.post("/v1/batch", {"batch": sent}, content_type="application/json",
                           headers={"authorization": f"Bearer {key}"})  # fmt: skip
    assert response.status_code == 200, response.content
    assert not UsageDaily.objects.exists()  # the refresh task never reached a broker
    assert set(RollupMark.objects.values_list("account_id", "day")) == {
        (account.pk, dt.date(2026, 3, 10 + i)) for i in range(3)
    }
    assert rollups_sweep()["pairs"] == 0  # fresh marks belong to their own task for a minute
    assert rollups_sweep(older_than=dt.timedelta(0)) == {"pairs": 3, "rows": 3}
    assert not RollupMark.objects.exists()
    assert sorted(UsageDaily.objects.values_list("day", "events")) == [(dt.date(2026, 3, 10 + i), 1) for i in range(3)]


def test_a_refresh_clears_only_its_own_marks_and_a_failed_one_keeps_them(monkeypatch):
    from health import rollups
    from health.models import RollupMark

    a, b = AccountFactory(), AccountFactory()
    events(a, D, ["login"])
    rollups_mark([[a.pk, D.isoformat()], [b.pk, D.isoformat()], [a.pk, "9999-12-31"]])  # out of range: never
    assert RollupMark.objects.count() == 2
    rollups_refresh(account_day_pairs=[(a.pk, D)])
    assert list(RollupMark.objects.values_list("account_id", flat=True)) == [b.pk]

    def crash(daily):
        raise RuntimeError("worker lost mid-refresh")

    monkeypatch.setattr(rollups, "_write_daily", crash)
    with pytest.raises(RuntimeError):
        rollups_refresh(account_day_pairs=[(b.pk, D)])
    assert list(RollupMark.objects.values_list("account_id", flat=True)) == [b.pk]  # rolled back with the refresh


def test_the_first_refresh_task_of_a_backlog_takes_every_mark_and_the_rest_find_little(django_assert_num_queries):
    from health.models import RollupMark

    accounts = [AccountFactory() for _ in range(3)]
    for account in accounts:  # three ingests, three tasks queued
        events(account, D, ["login", "report_viewed"])
        rollups_mark([[account.pk, D.isoformat()]])
    assert refresh_rollups([[accounts[0].pk, D.isoformat()]]) == {"pairs": 3, "rows": 3}
    assert not RollupMark.objects.exists()
    assert sorted(UsageDaily.objects.values_list("account_id", "events")) == [(a.pk, 2) for a in accounts]
    with django_assert_num_queries(3):  # the savepoint, its marks (none left), its release: nothing recomputed
        assert refresh_rollups([[accounts[1].pk, D.isoformat()]]) == {"pairs": 0, "rows": 0}


def test_marking_a_day_again_keeps_its_first_mark_and_a_rebuild_clears_all_marks():
    from health.models import RollupMark

    account = AccountFactory()
    rollups_mark([[account.pk, D.isoformat()]])
    first = RollupMark.objects.get().marked_at
    rollups_mark([[account.pk, D.isoformat()], [account.pk, D.isoformat()]])
    assert RollupMark.objects.get().marked_at == first  # its place in the oldest-first queue is kept
    rollups_rebuild()
    assert not RollupMark.objects.exists()


def test_the_sweep_runs_every_minute_from_beat():
    from churnapp.schedule import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["health-sweep-rollup-marks"]
    assert entry["task"] == "health.tasks.sweep_rollup_marks"
    assert entry["schedule"] == dt.timedelta(seconds=60)
