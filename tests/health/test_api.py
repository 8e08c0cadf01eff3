from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from health import services
from health.models import ChurnModelVersion, ChurnPrediction
from tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_api_refuses_anonymous(client):
    for url in ("/api/v1/health-snapshots/", "/api/v1/churn-models/", "/api/v1/churn-predictions/"):
        assert client.get(url).status_code in (401, 403)


def test_snapshots_with_factor_breakdown(client, viewer, own_account):
    SubscriptionFactory(account=own_account, start_date=dt.date(2025, 1, 1))
    services.health_recompute()
    client.force_login(viewer)
    data = client.get(f"/api/v1/health-snapshots/?account={own_account.pk}").json()
    row = data["results"][0]
    assert row["profile"] == "Default" and row["profile_version"] == 1
    assert len(row["factors"]["active_days_30"]) == 3  # raw, normalised, contribution
    assert "nps" in row["missing"]


def test_current_model_explains_why_there_is_none(client, viewer):
    AccountFactory()
    services.churn_model_train(months=2)
    client.force_login(viewer)
    response = client.get("/api/v1/churn-models/current/")
    assert response.status_code == 404
    assert "No churn model yet. Need at least 60 labelled observations" in response.json()["detail"]
    assert client.get("/api/v1/churn-models/").json()["results"][0]["status"] == "failed"


@pytest.mark.parametrize(("role", "code"), [("manager", 202), ("csm", 403), ("viewer", 403)])
def test_only_managers_queue_a_retrain(client, request, role, code):
    client.force_login(request.getfixturevalue(role))
    assert client.post("/api/v1/churn-models/train/").status_code == code


def test_predictions_ranked_by_expected_revenue_saved_and_mine(client, csm, own_account, other_account):
    model = ChurnModelVersion.objects.create(status="promoted")
    today = timezone.localdate()
    ChurnPrediction.objects.create(account=own_account, day=today, model=model, probability=0.2, expected_saved=10)
    ChurnPrediction.objects.create(account=other_account, day=today, model=model, probability=0.9, expected_saved=90)
    client.force_login(csm)
    everyone = client.get("/api/v1/churn-predictions/").json()["results"]
    assert [r["account"] for r in everyone] == [other_account.pk, own_account.pk]
    mine = client.get("/api/v1/churn-predictions/?mine=1").json()["results"]
    assert [r["account"] for r in mine] == [own_account.pk]


def test_mine_with_an_api_key_lists_nothing_rather_than_failing(client, db):
    from churnapp.apikeys import api_key_create

    _, secret = api_key_create(name="crm", scopes=["read"])
    response = client.get("/api/v1/churn-predictions/?mine=true", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    body = response.json()
    assert (body["results"] if isinstance(body, dict) else body) == []
