from __future__ import annotations

import datetime as dt
import pickle

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Account
from health import lab, services
from health.churn_services import lab_observations
from health.features.observations import month_starts
from health.models import ChurnLabRun, ChurnModelVersion
from health.rollups import rollups_rebuild
from tests.health.factories import churn_world

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 15)
SPLIT = {"train_until": dt.date(2026, 1, 1), "test_from": dt.date(2026, 1, 1), "test_until": dt.date(2026, 2, 1)}


@pytest.fixture
def world():
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        accounts = churn_world(end=TODAY)
        # A planted leak: today's attributes give the churners away, but they have no history.
        for account in accounts:
            churned = account.subscriptions.filter(end_date__isnull=False).exists()
            Account.objects.filter(pk=account.pk).update(
                segment="enterprise" if churned else "smb", custom_attributes={"cancel_flag": churned}
            )
        rollups_rebuild()
        yield accounts


def test_observations_from_the_rollups_leave_attributes_without_history_out(world):
    frame, names, types, _ratios = lab_observations(
        obs_dates=month_starts(dt.date(2025, 6, 1), TODAY), today=TODAY, horizons=(90,)
    )
    assert set(types) == {"campaign_sent", "report_viewed", "login"}
    assert not [c for c in frame.columns if "cancel" in c or "segment" in c]
    assert frame.groupby("obs_date")["account_id"].count().min() > 0
    quiet = frame[frame["label_90"] == True]  # noqa: E712
    calm = frame[frame["label_90"] == False]  # noqa: E712
    assert quiet["since:campaign_sent"].mean() > calm["since:campaign_sent"].mean()  # they went quiet first


def test_training_promotes_a_lab_model_that_never_reads_the_leak_and_predicts_with_drivers(world):
    version = services.churn_model_train(months=10)
    assert version.status == "promoted", version.message
    model = pickle.loads(bytes(version.artifact))
    columns = [c for m in (model.parts or [model]) for c in m.prepared.columns]
    assert columns and not [c for c in columns if "cancel" in c or "segment" in c]
    report = version.metrics["lab"]
    assert {r["candidate"] for r in report["table"]} == set(lab.CANDIDATES)
    assert {r["horizon_days"] for r in version.metrics["lead_time"]} == {30, 60, 90}
    assert version.metrics["recommendation"]["contact_k"] == version.metrics["profit"]["best_k"]
    assert 0 <= version.metrics["ece"] <= 1
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        result = services.churn_predict(day=TODAY)
    assert result["predicted"] > 0
    reasons = [d for p in version.predictions.all() for d in p.drivers]
    assert reasons and all(":" not in d["label"] for d in reasons)


def test_a_challenger_is_judged_on_months_the_champion_never_saw(world):
    first = services.churn_model_train(months=10, rebuild_observations=False, today=TODAY)
    assert first.status == "promoted", first.message
    # As if the champion had been trained in the autumn: the last months of the holdout are new to it.
    ChurnModelVersion.objects.filter(pk=first.pk).update(train_to=dt.date(2025, 10, 1))
    second = services.churn_model_train(months=10, rebuild_observations=False, today=TODAY)
    unseen = second.metrics.get("current_auc_on_holdout")
    assert unseen is not None, second.message
    assert (second.status == "promoted") == (second.metrics["challenger_auc_on_unseen"] > unseen)


def test_split_evaluates_every_candidate_with_the_baseline(world):
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        result = services.lab_split(**SPLIT, horizon_days=30)
    assert set(result["candidates"]) == set(lab.CANDIDATES), result
    assert result["test"]["from"] == "2026-01-01" and result["test"]["to"] == "2026-02-01"
    assert result["train"]["to"] <= "2025-12-01"  # labels known by the test start
    assert all(m.get("auc") is not None for m in result["candidates"].values()), result
    out = call_command_output(
        "train_churn_model", "--train-until", "2026-01-01", "--test-from", "2026-01-01", "--test-until", "2026-02-01",
        "--horizon-days", "30", "--as-of", "2026-03-15",
    )  # fmt: skip
    assert "baseline (baseline)" in out and "boosting" in out and "AUC" in out


def call_command_output(*args) -> str:
    import io

    buffer = io.StringIO()
    call_command(*args, stdout=buffer)
    return buffer.getvalue()


def test_a_split_that_cannot_be_evaluated_says_why_per_field():
    with pytest.raises(ValidationError) as exc:
        services.lab_split(
            train_until=dt.date(2025, 10, 1), test_from=dt.date(2025, 9, 1), test_until=dt.date(2025, 12, 1),
            horizon_days=90, as_of=dt.date(2026, 1, 15),
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"test_from", "test_until"}
    assert "labelled only on 2026-03-01" in exc.value.message_dict["test_until"][0]
    with pytest.raises(CommandError, match="go together"):
        call_command("train_churn_model", "--train-until", "2025-10-01")


def test_lab_runs_over_the_api_queue_for_managers_and_report_errors_per_field(client, manager, csm):
    client.force_login(csm)
    body = {"train_until": "2025-12-01", "test_from": "2025-12-01", "test_until": "2026-02-01", "horizon_days": 30}
    assert client.post("/api/v1/churn-models/lab-runs/", body, content_type="application/json").status_code == 403
    client.force_login(manager)
    bad = client.post("/api/v1/churn-models/lab-runs/", {**body, "test_until": "2025-11-01"},
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and "test_until" in bad.json()
    assert not ChurnLabRun.objects.exists()
    ok = client.post("/api/v1/churn-models/lab-runs/", {**body, "as_of": "2026-03-15"}, content_type="application/json")
    assert ok.status_code == 202 and ok.json()["status"] == "queued"
    run = services.lab_run_execute(run_id=ok.json()["id"])
    assert run.status == "failed" and "no month start" in run.message  # no data at all in this database
    assert services.lab_run_execute(run_id=run.pk) is None  # claimed once
    listed = client.get("/api/v1/churn-models/lab-runs/").json()
    assert listed[0]["id"] == run.pk
    assert client.get(f"/api/v1/churn-models/lab-runs/{run.pk}/").json()["message"] == run.message


def test_model_page_shows_every_candidate_per_cutoff_with_the_baseline_to_beat(client, manager):
    table = [
        {"cutoff": "2025-09-01", "test_until": "2025-11-30", "candidate": kind, "auc": auc, "lift": 2.0, "brier": 0.05,
         "ece": 0.02, "n": 300, "churns": 25, "train_rows": 900, "train_last": "2025-06-01"}
        for kind, auc in (("baseline", 0.61), ("logistic", 0.7), ("boosting", 0.73))
    ]  # fmt: skip
    ChurnModelVersion.objects.create(
        status="promoted",
        metrics={"auc": 0.73, "lift_top_decile": 2.0, "brier": 0.05, "base_rate": 0.08, "ece": 0.02, "n": 300,
                 "candidate": "boosting", "calibration": "sigmoid", "reliability": [],
                 "profit": {"k": [0], "realised": [0], "expected": [0], "best_k": 12, "best_value": 5000,
                            "action_cost": 150, "save_rate": 0.3},
                 "lab": {"horizon_days": 90, "test_months": 3, "cutoffs": ["2025-09-01"], "table": table,
                         "means": {"baseline": {"auc": 0.61, "lift": 2, "brier": 0.05, "ece": 0.02}},
                         "winner": "boosting"},
                 "lead_time": [{"horizon_days": 30, "auc": 0.8, "baseline_auc": 0.7, "churns": 20, "cutoff": "x"}],
                 "recommendation": {"contact_k": 12, "contact_share": 0.04, "net_value": 5000,
                                    "break_even_probability": 0.1, "median_value": 5000, "action_cost": 150,
                                    "save_rate": 0.3},
                 "signal": [{"label": "change in report viewed vs 3 months ago", "strength": 0.8,
                             "risk_when": "lower"}]},
    )  # fmt: skip
    client.force_login(manager)
    html = client.get(reverse("health:model")).content.decode()
    assert "baseline (to beat)" in html and "0.610" in html and "0.730" in html and "0.120" in html
    assert "change in report viewed vs 3 months ago" in html and "Contact the top <strong>12</strong>" in html
    response = client.post(reverse("health:model-lab"), {**SPLIT, "test_until": "2025-11-01", "horizon_days": 30})
    assert response.status_code == 302 and not ChurnLabRun.objects.exists()
    client.post(reverse("health:model-lab"), {**SPLIT, "horizon_days": 30, "as_of": "2026-03-15"})
    assert ChurnLabRun.objects.get().status == "queued"
