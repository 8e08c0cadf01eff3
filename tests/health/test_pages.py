from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from health import services
from health.models import ChurnModelVersion, ChurnPrediction, HealthProfile, HealthProfileVersion
from health.scoring import DEFAULT_FACTORS
from tests.factories import AccountFactory, SubscriptionFactory
from tests.health.factories import events

pytestmark = pytest.mark.django_db


def _form(factors=DEFAULT_FACTORS, green=70, yellow=40, **extra) -> dict:
    data = {"green_min": green, "yellow_min": yellow, "note": "test"}
    for f in factors:
        data[f"weight_{f['key']}"] = f["weight"]
        data[f"method_{f['key']}"] = f["method"]
        if f["method"] == "thresholds":
            data[f"points_{f['key']}"] = ", ".join(f"{x}:{y}" for x, y in f["points"])
        elif f.get("higher_is_better"):
            data[f"hib_{f['key']}"] = "on"
    return {**data, **extra}


@pytest.fixture
def scored(own_account, other_account):
    for account in (own_account, other_account):
        SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1), quantity=2)
    for offset in range(25):
        events(own_account, timezone.localdate() - dt.timedelta(days=offset), ["campaign_sent", "report_viewed"])
    from health.rollups import rollups_rebuild

    rollups_rebuild()
    services.health_recompute()
    return HealthProfile.objects.get(segment="")


@pytest.mark.parametrize("role", ["viewer", "csm", "manager"])
def test_every_role_reads_profiles_model_and_priorities(client, request, role, scored):
    client.force_login(request.getfixturevalue(role))
    for url in (
        reverse("health:profile-list"),
        reverse("health:profile-detail", args=[scored.pk]),
        reverse("health:model"),
        reverse("health:priorities"),
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("name", ["profile-preview", "profile-backtest", "profile-save", "profile-draft-create"])
@pytest.mark.parametrize("role", ["viewer", "csm"])
def test_only_managers_edit_preview_backtest_or_publish(client, request, role, name, scored):
    client.force_login(request.getfixturevalue(role))
    assert client.post(reverse(f"health:{name}", args=[scored.pk]), _form()).status_code == 403


def test_live_preview_shows_the_band_distribution_and_the_accounts_that_would_move(client, manager, scored):
    client.force_login(manager)
    strict = [{"key": "active_days_30", "weight": 1, "method": "thresholds", "points": [[0, 0], [60, 100]]}]
    html = client.post(reverse("health:profile-preview", args=[scored.pk]), _form(strict)).content.decode()
    assert "2 accounts" in html
    assert "would change band" in html and "Acme Mail" in html


def test_preview_reports_invalid_weights_without_saving(client, manager, scored):
    client.force_login(manager)
    zero = [{"key": "nps", "weight": 0, "method": "percentile"}]
    html = client.post(reverse("health:profile-preview", args=[scored.pk]), _form(zero)).content.decode()
    assert "A profile needs at least one factor" in html
    negative = [{"key": "nps", "weight": -3, "method": "percentile"}]
    html = client.post(reverse("health:profile-preview", args=[scored.pk]), _form(negative)).content.decode()
    assert "must be zero or more" in html


def test_manager_saves_and_publishes_a_draft(client, manager, scored):
    client.force_login(manager)
    client.post(reverse("health:profile-draft-create", args=[scored.pk]))
    factors = DEFAULT_FACTORS[:4]
    response = client.post(reverse("health:profile-save", args=[scored.pk]), _form(factors, 75, 45, publish="1"))
    assert response.status_code == 302
    published = HealthProfileVersion.objects.get(profile=scored, status="published")
    assert (published.number, published.green_min, [f["key"] for f in published.factors]) == (
        2,
        75,
        [f["key"] for f in factors],
    )
    assert HealthProfileVersion.objects.get(profile=scored, number=1).status == "archived"


def test_backtest_partial_explains_when_there_is_no_history(client, manager, scored):
    client.force_login(manager)
    html = client.post(reverse("health:profile-backtest", args=[scored.pk]), _form()).content.decode()
    assert "No observations yet" in html


def test_model_page_shows_why_training_failed(client, viewer):
    ChurnModelVersion.objects.create(status="failed", message="Need at least 60 labelled observations to train.")
    client.force_login(viewer)
    html = client.get(reverse("health:model")).content.decode()
    assert "could not run: Need at least 60 labelled observations" in html


def test_priorities_mine_and_all(client, csm, own_account, other_account):
    model = ChurnModelVersion.objects.create(status="promoted")
    today = timezone.localdate()
    ChurnPrediction.objects.create(account=own_account, day=today, model=model, probability=0.3, expected_saved=20)
    ChurnPrediction.objects.create(account=other_account, day=today, model=model, probability=0.8, expected_saved=99)
    client.force_login(csm)
    mine = client.get(reverse("health:priorities")).content.decode()
    assert "Acme Mail" in mine and "Globex" not in mine
    everyone = client.get(reverse("health:priorities") + "?scope=all").content.decode()
    assert everyone.index("Globex") < everyone.index("Acme Mail")


def test_priorities_query_count_is_fixed(client, manager, django_assert_max_num_queries):
    model = ChurnModelVersion.objects.create(status="promoted")
    for _ in range(20):
        ChurnPrediction.objects.create(account=AccountFactory(), day=timezone.localdate(), model=model, probability=0.5)
    client.force_login(manager)
    with django_assert_max_num_queries(10):
        client.get(reverse("health:priorities") + "?scope=all")
