from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Account
from accounts.services import account_set_health_bulk
from health import scoring, services
from health.models import AccountMetrics, HealthProfile, HealthProfileVersion, HealthSnapshot
from health.rollups import rollups_rebuild
from tests.factories import AccountFactory, SubscriptionFactory, SurveyResponseFactory
from tests.health.factories import at, events

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 31)


def _busy(account, days: int = 30):
    for offset in range(days):
        events(account, DAY - dt.timedelta(days=offset), ["campaign_sent", "report_viewed", "template_edited"])


def test_default_profile_exists_from_the_data_migration():
    version = HealthProfileVersion.objects.get(profile__segment="", status="published")
    assert version.number == 1 and (version.green_min, version.yellow_min) == (70, 40)
    assert scoring.validate_profile(version.factors, 70, 40) == []


def test_recompute_writes_metrics_snapshots_and_caches_health_on_accounts():
    busy, idle = AccountFactory(), AccountFactory()
    for account in (busy, idle):
        SubscriptionFactory(account=account, start_date=dt.date(2025, 6, 1), quantity=1)
    _busy(busy)
    rollups_rebuild()
    services.health_recompute(day=DAY, cache_on_accounts=True)
    snap = HealthSnapshot.objects.get(account=busy, day=DAY)
    assert snap.band == "green" and snap.score >= 70
    assert snap.factors["active_days_30"] == [30, 100.0, pytest.approx(snap.factors["active_days_30"][2])]
    assert "nps" in snap.missing and "csm_sentiment" in snap.missing
    assert sum(c for _r, _n, c in snap.factors.values() if c is not None) == pytest.approx(snap.score, abs=1)
    assert HealthSnapshot.objects.get(account=idle, day=DAY).band == "red"
    assert AccountMetrics.objects.filter(day=DAY).count() == 2
    busy.refresh_from_db()
    assert (busy.health_score, busy.health_band) == (snap.score, "green")


def test_recompute_is_idempotent_and_trend_compares_with_30_days_ago():
    account = AccountFactory()
    SubscriptionFactory(account=account, start_date=dt.date(2025, 6, 1), quantity=1)
    _busy(account, days=60)
    rollups_rebuild()
    services.health_recompute(day=DAY - dt.timedelta(days=30), cache_on_accounts=False)
    SurveyResponseFactory(account=account, score=0, responded_at=at(DAY - dt.timedelta(days=1)))
    services.health_recompute(day=DAY, cache_on_accounts=True)
    services.health_recompute(day=DAY, cache_on_accounts=True)
    assert HealthSnapshot.objects.filter(day=DAY).count() == 1
    account.refresh_from_db()
    before = HealthSnapshot.objects.get(day=DAY - dt.timedelta(days=30)).score
    assert account.health_trend == account.health_score - before < 0


def test_unscored_accounts_lose_their_cached_health():
    gone = AccountFactory(health_score=80, health_band="green", health_trend=3)
    SubscriptionFactory(account=gone, start_date=dt.date(2025, 1, 1), end_date=dt.date(2026, 1, 1))
    services.health_recompute(day=DAY, cache_on_accounts=True)
    gone.refresh_from_db()
    assert (gone.health_score, gone.health_band, gone.health_trend) == (None, "", None)


def test_segment_profile_is_used_for_its_segment():
    smb, ent = AccountFactory(segment="smb"), AccountFactory(segment="enterprise")
    for account in (smb, ent):
        SubscriptionFactory(account=account, start_date=dt.date(2025, 6, 1))
    profile = services.profile_create(name="Enterprise", segment="enterprise", actor=None)
    draft = profile.versions.get()
    services.profile_draft_update(
        draft=draft,
        factors=[{"key": "tenure_days", "weight": 1, "method": "thresholds", "points": [[0, 0], [100, 100]]}],
        green_min=70,
        yellow_min=40,
        actor=None,
    )
    services.profile_publish(draft=draft, actor=None)
    services.health_recompute(day=DAY, cache_on_accounts=False)
    assert HealthSnapshot.objects.get(account=ent).version == draft
    assert HealthSnapshot.objects.get(account=ent).score == 100
    assert HealthSnapshot.objects.get(account=smb).version.profile.segment == ""


def test_publishing_a_draft_archives_the_previous_version_and_keeps_old_snapshots(manager):
    account = AccountFactory()
    SubscriptionFactory(account=account, start_date=dt.date(2025, 6, 1))
    services.health_recompute(day=DAY, cache_on_accounts=False)
    v1 = HealthProfileVersion.objects.get(status="published")
    draft = services.profile_draft_get_or_create(profile=v1.profile, actor=manager)
    assert draft.number == 2 and draft.factors == v1.factors
    assert services.profile_draft_get_or_create(profile=v1.profile, actor=manager) == draft
    services.profile_draft_update(draft=draft, factors=v1.factors[:3], green_min=80, yellow_min=50, actor=manager)
    services.profile_publish(draft=draft, actor=manager)
    v1.refresh_from_db()
    draft.refresh_from_db()
    assert (v1.status, draft.status) == ("archived", "published")
    assert HealthSnapshot.objects.get(day=DAY).version == v1
    with pytest.raises(ValidationError):
        services.profile_draft_update(draft=v1, factors=v1.factors, green_min=70, yellow_min=40, actor=manager)


@pytest.mark.parametrize("weights", [[0, 0], [-1, 2]])
def test_weights_that_sum_to_zero_or_are_negative_are_refused(manager, weights):
    profile = HealthProfile.objects.get(segment="")
    draft = services.profile_draft_get_or_create(profile=profile, actor=manager)
    factors = [
        {"key": "nps", "weight": weights[0], "method": "percentile"},
        {"key": "csat", "weight": weights[1], "method": "percentile"},
    ]
    with pytest.raises(ValidationError):
        services.profile_draft_update(draft=draft, factors=factors, green_min=70, yellow_min=40, actor=manager)


def test_only_managers_configure_profiles(csm):
    with pytest.raises(PermissionDenied):
        services.profile_draft_get_or_create(profile=HealthProfile.objects.get(segment=""), actor=csm)


def test_account_set_health_bulk_updates_only_given_fields():
    a, b = AccountFactory(churn_probability=0.5), AccountFactory()
    account_set_health_bulk(
        rows=[
            {"account_id": a.pk, "health_score": 55, "health_band": "yellow", "health_trend": -3},
            {"account_id": b.pk, "health_score": None, "health_band": None, "health_trend": None},
        ]
    )
    assert Account.objects.get(pk=a.pk).health_band == "yellow"
    assert Account.objects.get(pk=a.pk).churn_probability == 0.5
    with pytest.raises(ValueError):
        account_set_health_bulk(rows=[{"account_id": a.pk, "health_score": 1}, {"account_id": b.pk}])
