from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import Account
from health import lab, services
from health.models import ChurnModelVersion, ChurnObservation, ChurnPrediction
from health.rollups import rollups_rebuild
from tests.factories import AccountFactory, SubscriptionFactory
from tests.health.factories import churn_world, events

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 15)


@pytest.fixture
def world():
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        accounts = churn_world(end=TODAY)
        rollups_rebuild()
        yield accounts


def test_observations_use_only_data_before_the_month_start_and_label_the_horizon(world):
    services.observations_build(months=10, today=TODAY, horizon_days=90)
    obs = ChurnObservation.objects.filter(obs_date=dt.date(2025, 9, 1))
    before = {o.account_id: o.features for o in obs}
    assert before
    for account in world:  # a burst of activity on the observation date itself and after it
        events(account, dt.date(2025, 9, 1), ["campaign_sent"] * 5, user="late")
        events(account, dt.date(2025, 9, 20), ["campaign_sent"] * 5, user="later")
    rollups_rebuild()
    services.observations_build(months=10, today=TODAY, horizon_days=90)
    after = {o.account_id: o.features for o in ChurnObservation.objects.filter(obs_date=dt.date(2025, 9, 1))}
    assert after == before
    # The label: no longer active 90 days after the observation date.
    for o in ChurnObservation.objects.filter(obs_date=dt.date(2025, 9, 1)).select_related("account"):
        sub = o.account.subscriptions.get()
        assert o.label == (sub.end_date is not None and sub.end_date <= dt.date(2025, 11, 30))
    # Horizon not passed yet: no label.
    assert not ChurnObservation.objects.filter(obs_date=dt.date(2026, 1, 1), label__isnull=False).exists()


def test_train_promotes_the_first_model_and_rejects_one_that_is_not_better(world):
    first = services.churn_model_train(months=10)
    assert first.status == "promoted", first.message
    assert first.metrics["auc"] > 0.75
    # The holdout metrics come from the winner trained before the holdout (labels known a horizon earlier); the
    # promoted model is then trained on every labelled observation.
    assert dt.date.fromisoformat(first.metrics["fold_train_to"]) + dt.timedelta(days=90) <= first.holdout_from
    assert first.holdout_from <= first.holdout_to <= first.train_to
    assert first.metrics["candidate"] in lab.CANDIDATES
    assert {r["candidate"] for r in first.metrics["lab"]["table"]} == set(lab.CANDIDATES)
    assert first.metrics["profit"]["best_k"] >= 0
    second = services.churn_model_train(rebuild_observations=False)
    assert second.status == "rejected"
    assert "nothing new to judge a retrain on" in second.message
    assert ChurnModelVersion.objects.filter(status="promoted").get() == first


def test_daily_predictions_with_drivers_cached_on_accounts(world):
    services.churn_model_train(months=10)
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        result = services.churn_predict(day=TODAY)
    active = Account.objects.filter(subscriptions__end_date__isnull=True).distinct()
    assert result["predicted"] == active.count() > 0
    prediction = ChurnPrediction.objects.order_by("-probability").first()
    assert prediction.drivers and prediction.drivers[0]["effect"] > 0
    # MRR 100 (the factory's), 12 months of value, save rate 0.3, action cost 150 (the defaults).
    assert prediction.mrr_at_risk == pytest.approx(prediction.probability * 100)
    assert prediction.expected_saved == pytest.approx(prediction.probability * 100 * 12 * 0.3 - 150)
    assert Account.objects.get(pk=prediction.account_id).churn_probability == pytest.approx(
        prediction.probability, abs=1e-4
    )


def test_a_rescored_accounts_prediction_follows_and_equals_the_daily_runs(world, django_capture_on_commit_callbacks):
    services.churn_model_train(months=10)
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        services.churn_predict(day=TODAY)
        daily = {p.account_id: (p.probability, p.drivers) for p in ChurnPrediction.objects.filter(day=TODAY)}
        one, other = sorted(daily)[:2]
        ChurnPrediction.objects.filter(account_id__in=[one, other]).update(probability=0.5)
        # The rescoring's `scores-changed` hook queues the re-prediction of the rescored accounts only.
        from churnapp import hooks

        with django_capture_on_commit_callbacks(execute=True):
            hooks.notify(hooks.SCORES_CHANGED, [one])
    after = {p.account_id: (p.probability, p.drivers) for p in ChurnPrediction.objects.filter(day=TODAY)}
    assert after[one][0] == pytest.approx(daily[one][0]) and after[one][1] == daily[one][1]
    assert after[other][0] == 0.5  # not rescored: untouched until its own rescoring or the daily run
    assert Account.objects.get(pk=one).churn_probability == pytest.approx(daily[one][0], abs=1e-4)


def test_too_little_history_is_recorded_with_a_clear_message():
    account = AccountFactory()
    SubscriptionFactory(account=account, start_date=dt.date(2026, 1, 1))
    version = services.churn_model_train(months=3)
    assert version.status == "failed"
    assert "labelled observations" in version.message
    assert services.churn_predict()["predicted"] == 0


def test_the_cached_probability_never_rounds_some_risk_to_zero():
    from health.churn_services.predictions import _cached_probability

    assert _cached_probability(0.00003) == 0.0001
    assert _cached_probability(0.123456) == 0.1235
    assert _cached_probability(0.0) == 0.0
