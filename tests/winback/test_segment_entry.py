"""Segment history and "on entering a segment" surveys fired from real entries (time frozen)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tests.factories import AccountFactory, ContactFactory
from winback import services
from winback.models import SegmentStay, SurveyInvitation, SurveySchedule

pytestmark = pytest.mark.django_db
START = dt.datetime(2025, 5, 1, 9, tzinfo=dt.UTC)


def account(segment="smb"):
    a = AccountFactory(segment=segment)
    ContactFactory(account=a, is_primary=True)
    return a


def move(a, segment):
    a.segment = segment
    a.save(update_fields=["segment"])


def run():
    return services.survey_schedules_run(today=timezone.localdate(), now=timezone.now())


@pytest.fixture
def traveller():
    with time_machine.travel(START, tick=False) as t:
        yield t


@pytest.fixture
def schedule(db):
    SurveySchedule.objects.update(is_active=False)
    return SurveySchedule.objects.create(
        name="Enterprise welcome", kind="nps", trigger="segment_entry", segment="enterprise", offset_days=7
    )


class TestSegmentHistory:
    def test_first_sync_records_where_accounts_are_without_entries(self, traveller):
        a, b = account("smb"), account("enterprise")
        assert services.segment_history_sync() == {"left": 0, "entered": 0}
        assert {(s.account_id, s.segment, s.entered_on) for s in SegmentStay.objects.all()} == {
            (a.pk, "smb", None),
            (b.pk, "enterprise", None),
        }

    def test_a_change_closes_the_stay_and_opens_an_entry_on_that_day(self, traveller):
        a = account("smb")
        services.segment_history_sync()
        traveller.shift(dt.timedelta(days=3))
        move(a, "enterprise")
        assert services.segment_history_sync() == {"left": 1, "entered": 1}
        assert services.segment_history_sync() == {"left": 0, "entered": 0}  # nothing new
        stays = list(
            SegmentStay.objects.filter(account=a).order_by("id").values_list("segment", "entered_on", "left_on")
        )
        assert stays == [("smb", None, dt.date(2025, 5, 4)), ("enterprise", dt.date(2025, 5, 4), None)]

    def test_a_new_account_after_history_began_is_an_entry(self, traveller):
        account("smb")
        services.segment_history_sync()
        traveller.shift(dt.timedelta(days=1))
        new = account("mid_market")
        assert services.segment_history_sync()["entered"] == 1
        assert SegmentStay.objects.get(account=new).entered_on == dt.date(2025, 5, 2)


class TestSegmentEntrySurvey:
    def test_survey_goes_out_n_days_after_a_real_entry_once(self, traveller, schedule):
        stayer, mover = account("enterprise"), account("smb")
        run()  # history begins: the account already in enterprise did not enter it
        traveller.shift(dt.timedelta(days=2))
        move(mover, "enterprise")
        run()
        traveller.shift(dt.timedelta(days=6))
        assert run()["invited"] == 0  # 6 days after entry: not yet
        traveller.shift(dt.timedelta(days=1))
        assert run()["invited"] == 1
        traveller.shift(dt.timedelta(days=1))
        assert run()["invited"] == 0
        invitation = SurveyInvitation.objects.get()
        assert invitation.account == mover and invitation.trigger_key == "segment:enterprise:2025-05-03"
        assert not SurveyInvitation.objects.filter(account=stayer).exists()

    def test_an_account_that_left_again_before_the_moment_is_not_asked(self, traveller, schedule):
        mover = account("smb")
        run()
        traveller.shift(dt.timedelta(days=1))
        move(mover, "enterprise")
        run()
        traveller.shift(dt.timedelta(days=2))
        move(mover, "smb")
        run()
        traveller.shift(dt.timedelta(days=6))
        assert run()["invited"] == 0

    def test_re_entry_after_the_fatigue_window_is_asked_again(self, traveller, schedule):
        mover = account("smb")
        run()
        traveller.shift(dt.timedelta(days=1))
        move(mover, "enterprise")
        run()
        traveller.shift(dt.timedelta(days=7))
        assert run()["invited"] == 1
        traveller.shift(dt.timedelta(days=10))
        move(mover, "smb")
        run()
        traveller.shift(dt.timedelta(days=100))
        move(mover, "enterprise")
        run()
        traveller.shift(dt.timedelta(days=7))
        assert run()["invited"] == 1
        assert SurveyInvitation.objects.filter(account=mover).count() == 2

    def test_a_missed_run_still_catches_the_moment_within_the_window(self, traveller, schedule):
        mover = account("smb")
        run()
        traveller.shift(dt.timedelta(days=1))
        move(mover, "enterprise")
        run()
        traveller.shift(dt.timedelta(days=9))  # runs on days 7 and 8 after entry were missed
        assert run()["invited"] == 1
