"""The demo-data simulator: deterministic generation, believable invariants, and the `simulate` command's load."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Max

from accounts import selectors
from accounts.models import (
    Account,
    Activity,
    ActivityKind,
    Contact,
    Subscription,
    SupportTicket,
    SurveyResponse,
    Task,
    UsageEvent,
)
from demo import load
from demo.simulator import REASONS, simulate
from tests.factories import AccountFactory, UserFactory

END = dt.date(2025, 6, 15)
SMALL = {"accounts": 40, "months": 8, "seed": 7}


@pytest.fixture(scope="module")
def generated():
    return simulate(accounts=200, months=12, seed=5, end_date=END)


def _run(*flags: str, **options: int) -> str:
    """Run the command as from the shell (so argument parsing is exercised) on the small default scale."""
    args = [f"--end-date={END.isoformat()}", *flags]
    args += [f"--{name}={value}" for name, value in {**SMALL, **options}.items()]
    out = io.StringIO()
    call_command("simulate", *args, stdout=out)
    return out.getvalue()


def _fingerprint() -> str:
    """A hash of every simulated row's content (not its database ids or load-time stamps)."""

    def rows(queryset, *fields):
        values = [
            tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else str(v) for v in row)
            for row in queryset.values_list(*fields)
        ]
        return sorted(values)

    simulated = {"account__external_id__startswith": "ACC-"}
    content = [
        rows(
            Account.objects.filter(external_id__startswith="ACC-"),
            *("external_id", "name", "domain", "owner__username", "segment", "tier", "plan", "lifecycle_stage"),
            *("status", "renewal_date", "custom_attributes", "created_at", "last_seen_at", "mrr", "seats"),
        ),
        rows(Account.tags.through.objects.filter(**simulated), "account__external_id", "tag__name"),
        rows(Contact.objects.filter(**simulated), "account__external_id", "user_id", "email", "name", "is_primary"),
        rows(
            Subscription.objects.filter(**simulated),
            *("account__external_id", "external_id", "product", "mrr", "quantity", "billing_period", "start_date"),
            *("end_date", "status", "cancellation_reason"),
        ),
        rows(
            UsageEvent.objects.filter(**simulated),
            *("message_id", "account__external_id", "user_id", "event_type", "occurred_at", "properties"),
        ),
        rows(
            SupportTicket.objects.filter(**simulated),
            "external_id",
            "account__external_id",
            "subject",
            "status",
            "priority",
            "opened_at",
            "resolved_at",
        ),  # fmt: skip
        rows(
            SurveyResponse.objects.filter(**simulated),
            "account__external_id",
            "contact__user_id",
            "kind",
            "score",
            "comment",
            "responded_at",
        ),  # fmt: skip
        rows(
            Activity.objects.filter(**simulated),
            "account__external_id",
            "kind",
            "author__username",
            "subject",
            "occurred_at",
        ),  # fmt: skip
        rows(
            Task.objects.filter(**simulated),
            "account__external_id",
            "assignee__username",
            "title",
            "due_date",
            "status",
            "priority",
        ),  # fmt: skip
    ]
    return hashlib.sha256(repr(content).encode()).hexdigest()


class TestGenerator:
    def test_same_seed_and_end_date_give_identical_frames(self, generated):
        again = simulate(accounts=200, months=12, seed=5, end_date=END)
        for name, frame in generated.frames().items():
            pd.testing.assert_frame_equal(frame, again.frames()[name], obj=name)

    def test_different_seeds_give_different_data(self, generated):
        other = simulate(accounts=200, months=12, seed=6, end_date=END)
        assert list(other.accounts["name"]) != list(generated.accounts["name"])
        assert len(other.events) != len(generated.events)

    def test_every_account_has_a_subscription_and_rows_end_after_they_start(self, generated):
        subs = generated.subscriptions
        assert set(subs["account"]) == set(range(len(generated.accounts)))
        ended = subs[subs["end_date"].notna()]
        assert (ended["end_date"] > ended["start_date"]).all()
        assert (subs["start_date"] < END).all()

    def test_plan_changes_are_consecutive_rows(self, generated):
        subs = generated.subscriptions
        plans = subs[subs["units"] == "seats"]
        changed = plans[plans["status"].eq("canceled") & plans["cancellation_reason"].eq("")]
        assert len(changed), "some accounts change seats or plan"
        starts = set(zip(plans["account"], plans["start_date"], strict=True))
        assert all((a, end) in starts for a, end in zip(changed["account"], changed["end_date"], strict=True))

    def test_churn_follows_subscriptions(self, generated):
        accounts, subs = generated.accounts, generated.subscriptions
        open_on_end = subs["end_date"].isna() | (subs["end_date"] > END)
        active = set(subs.loc[open_on_end & (subs["start_date"] <= END), "account"])
        churned = set(accounts.index[accounts["status"] == "churned"])
        assert churned and not churned & active
        assert set(accounts.index) - churned <= active
        reasons = subs.loc[subs["cancellation_reason"] != "", "cancellation_reason"]
        assert set(reasons) <= set(REASONS) and "payment_failure" in set(reasons)
        assert (accounts["status"] == "won_back").any() and (subs["status"] == "paused").any()

    def test_events_have_unique_ids_and_fall_inside_the_window(self, generated):
        events = generated.events
        assert 10_000 < len(events) and events["message_id"].is_unique
        assert events["message_id"].iat[0] == "sim-5-0"
        assert events["occurred_at"].max() < pd.Timestamp(END, tz="UTC")
        signup = generated.accounts["created_at"].dt.normalize()
        assert (events["occurred_at"] >= signup.to_numpy()[events["account"]]).all()
        share = events["event_type"].value_counts(normalize=True)
        assert share["login"] > 0.5 and share["integration_connected"] < 0.01
        assert (events["event_type"] == "payment_failed").any()

    def test_survey_scores_are_in_range_and_follow_engagement(self, generated):
        surveys = generated.surveys
        nps, csat = surveys[surveys["kind"] == "nps"], surveys[surveys["kind"] == "csat"]
        assert nps["score"].between(0, 10).all() and csat["score"].between(1, 5).all()
        status = generated.accounts["status"].to_numpy()
        assert (
            nps["score"][status[nps["account"]] == "churned"].mean()
            < nps["score"][status[nps["account"]] == "active"].mean()
        )

    def test_no_column_gives_away_who_will_churn(self, generated):
        for name, frame in generated.frames().items():
            assert not [c for c in frame.columns if "churn" in c or "engagement" in c], name


@pytest.mark.django_db
class TestSimulateCommand:
    def test_loads_a_consistent_history(self):
        output = _run()
        data = simulate(end_date=END, **SMALL)

        assert "events/minute" in output
        assert Account.objects.count() == 40
        assert UsageEvent.objects.count() == len(data.events) > 1000
        assert UsageEvent.objects.values("message_id").distinct().count() == len(data.events)
        assert not Account.objects.filter(subscriptions__isnull=True).exists()
        # The refresh found nothing to correct: statuses and subscriptions agree.
        assert not Activity.objects.filter(kind=ActivityKind.CHANGE).exists()
        churned = Account.objects.filter(status="churned")
        assert churned.exists()
        assert not selectors.accounts_active_on(day=END).filter(pk__in=churned).exists()
        assert not SurveyResponse.objects.filter(kind="nps", score__gt=10).exists()
        # Cached MRR came from the refresh; only churned and paused accounts pay nothing.
        unpaid = Account.objects.filter(mrr=0).exclude(status="churned").exclude(tags__name="paused")
        assert not unpaid.exists()
        assert Account.objects.filter(seats__gt=0).exclude(status="churned").exists()
        assert Task.objects.filter(status="open", due_date__lt=END).exists()
        assert Task.objects.filter(status="open", due_date__gte=END).exists()

    def test_team_gets_roles_and_owns_the_accounts(self):
        _run()
        users = get_user_model().objects
        assert users.get(username="manager.mia").groups.filter(name="Manager").exists()
        csms = users.filter(groups__name="CSM", username__startswith="csm.")
        assert csms.count() == 2
        assert set(Account.objects.values_list("owner__username", flat=True)) <= set(
            csms.values_list("username", flat=True)
        )
        assert not users.get(username="csm.ana").has_usable_password()

    def test_churned_accounts_used_the_product_less_in_their_last_30_days(self):
        _run()
        churn_day = dict(
            Subscription.objects.filter(account__status="churned")
            .values("account")
            .annotate(last=Max("end_date"))
            .values_list("account", "last")
        )
        ends = {
            pk: churn_day.get(pk, END)
            for pk in Account.objects.exclude(status="onboarding").values_list("pk", flat=True)
        }
        users = dict(Contact.objects.values("account").annotate(n=Count("pk")).values_list("account", "n"))
        events = pd.DataFrame(UsageEvent.objects.exclude(user_id="").values_list("account", "occurred_at"),
                              columns=["account", "at"])  # fmt: skip

        def rate(pk: int) -> float:
            end = pd.Timestamp(ends[pk], tz="UTC")
            mine = events[
                (events["account"] == pk) & (events["at"] >= end - pd.Timedelta(days=30)) & (events["at"] < end)
            ]
            return len(mine) / 30 / users[pk]

        churned = [rate(pk) for pk in ends if pk in churn_day]
        retained = [rate(pk) for pk in ends if pk not in churn_day]
        assert len(churned) >= 3
        assert np.mean(churned) < 0.7 * np.mean(retained)

    def test_same_seed_loads_the_same_rows(self):
        _run()
        first = _fingerprint()
        _run("--replace")
        assert _fingerprint() == first
        _run("--replace", seed=8)
        assert _fingerprint() != first
        assert Account.objects.count() == 40

    def test_refuses_when_simulated_accounts_exist(self):
        _run()
        with pytest.raises(CommandError, match="--replace"):
            _run(seed=99)
        assert Account.objects.count() == 40

    def test_replace_keeps_other_accounts_and_existing_users(self):
        mine = AccountFactory(external_id="crm-1")
        UserFactory(username="csm.ana", first_name="Ana", last_name="Real")
        _run()
        _run("--replace")
        assert Account.objects.filter(pk=mine.pk).exists()
        assert Account.objects.filter(external_id__startswith="ACC-").count() == 40
        assert get_user_model().objects.get(username="csm.ana").last_name == "Real"

    def test_a_failure_leaves_nothing_half_written(self, monkeypatch):
        def broken(**kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(load, "account_refresh_snapshots", broken)
        with pytest.raises(RuntimeError):
            _run()
        assert not Account.objects.exists() and not UsageEvent.objects.exists()

    def test_rejects_a_bad_end_date(self):
        with pytest.raises(CommandError):
            call_command("simulate", "--end-date", "15/06/2025", stdout=io.StringIO())


# --- churn mechanisms ------------------------------------------------------------------------------------------

MECH_END = dt.date(2025, 12, 1)


def _churned(data) -> set[int]:
    subs = data.subscriptions
    return set(subs.loc[subs["cancellation_reason"] != "", "account"])


def test_an_unknown_churn_mechanism_is_refused():
    with pytest.raises(ValueError, match="Unknown churn mechanism"):
        simulate(accounts=10, months=3, end_date=MECH_END, mechanism="meteor")


def test_price_shock_raises_the_price_of_churners_before_they_leave():
    data = simulate(accounts=80, months=12, seed=3, end_date=MECH_END, mechanism="price_shock")
    subs = data.subscriptions
    rises = subs[subs["external_id"].str.endswith("-p")]
    assert len(rises) > 0
    churned = _churned(data)
    assert rises["account"].isin(churned).mean() > 0.6
    for row in rises.itertuples():
        before = subs[(subs["account"] == row.account) & (subs["end_date"] == row.start_date)
                      & (subs["product"] == row.product)]  # fmt: skip
        assert float(row.mrr) > float(before["mrr"].iloc[0])


def test_silent_churners_stop_viewing_reports_but_keep_logging_in():
    data = simulate(accounts=120, months=12, seed=3, end_date=MECH_END, mechanism="silent")
    events = data.events
    subs = data.subscriptions
    leaving = subs[subs["cancellation_reason"] != ""].groupby("account")["end_date"].max()
    last = events["account"].map(leaving)
    before_end = (pd.to_datetime(last).dt.tz_localize("UTC") - events["occurred_at"]).dt.days
    late = events[before_end.between(0, 30)]
    early = events[before_end.between(120, 240)]
    share = lambda frame: (frame["event_type"] == "report_viewed").mean()  # noqa: E731
    assert share(late) < 0.5 * share(early)
    assert len(late) > 0.5 * len(early) * 30 / 120  # they keep using the product, reports aside


def test_ticket_storm_puts_tickets_in_the_weeks_before_churn():
    calm = simulate(accounts=80, months=12, seed=3, end_date=MECH_END, mechanism="price_shock")
    storm = simulate(accounts=80, months=12, seed=3, end_date=MECH_END, mechanism="ticket_storm")
    assert len(storm.tickets) > len(calm.tickets) * 1.15

    def late_share(data) -> float:
        leaving = (
            data.subscriptions[data.subscriptions["cancellation_reason"] != ""].groupby("account")["end_date"].max()
        )
        end = pd.to_datetime(data.tickets["account"].map(leaving)).dt.tz_localize("UTC")
        return float(((end - data.tickets["opened_at"]).dt.days.between(0, 60)).mean())

    assert late_share(storm) > 1.5 * late_share(calm)
