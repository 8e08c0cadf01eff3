"""Churn risk and health tell one story on the Customer 360: one value per fact, disagreements explained."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import latest_survey_scores
from health.models import AccountMetrics, ChurnModelVersion, ChurnPrediction, HealthProfileVersion, HealthSnapshot
from health.selectors.drivers import churn_risk_story
from tests.factories import AccountFactory, ContactFactory, SurveyResponseFactory
from winback.selectors.surveys import latest_nps_by_account

pytestmark = pytest.mark.django_db


def _scored(account, *, band, score, probability, drivers, nps=8):
    day = timezone.localdate()
    version = HealthProfileVersion.objects.filter(profile__segment="").first() or HealthProfileVersion.objects.first()
    factors = {f["key"]: [nps if f["key"] == "nps" else 1, 10, 1.0] for f in version.factors}
    HealthSnapshot.objects.create(account=account, day=day, version=version, score=score, band=band, factors=factors)
    AccountMetrics.objects.create(account=account, day=day, nps=nps, active_days_30=1)
    model = ChurnModelVersion.objects.create(status="promoted", metrics={"auc": 0.8})
    return ChurnPrediction.objects.create(
        account=account, day=day, model=model, probability=probability, expected_saved=1, drivers=drivers
    )


def test_drivers_never_say_no_data_for_a_fact_the_breakdown_shows(client, csm):
    account = AccountFactory(owner=csm, name="Red Co")
    contact = ContactFactory(account=account)
    SurveyResponseFactory(account=account, contact=contact, kind="nps", score=8)
    _scored(
        account, band="red", score=30, probability=0.004,
        drivers=[
            {"feature": "num__missingindicator_nps", "label": "no data for latest NPS", "effect": 0.4, "value": None},
            {"feature": "num__active_days_30", "label": "active days", "effect": 0.3, "value": 1.0},
        ],
    )  # fmt: skip
    client.force_login(csm)
    html = client.get(reverse("health:account-health", args=[account.pk])).content.decode()
    assert "no data for latest NPS" not in html
    assert "latest NPS on record" in html and "= 8" in html
    # The churn risk is never a bare 0 %, and the disagreement with the red band is explained in words.
    assert "&lt;1 %" in html
    assert 'id="risk-story"' in html and "Health is red (30)" in html
    # The same latest NPS on every reader.
    assert latest_survey_scores(kind="nps")[account.pk] == 8 == latest_nps_by_account()[account.pk]


def test_drivers_of_the_lab_model_read_the_facts_the_breakdown_shows(client, csm):
    # The promoted model of the demo is a lab model: its features are named "missing:nps", not "num__…".
    account = AccountFactory(owner=csm)
    SurveyResponseFactory(account=account, contact=ContactFactory(account=account), kind="nps", score=8)
    _scored(
        account, band="red", score=30, probability=0.013,
        drivers=[
            {"feature": "missing:nps", "label": "no data for latest NPS score", "effect": 0.55, "value": None},
            {"feature": "mrr_chg_90", "label": "MRR change in 90 days", "effect": 0.36, "value": 0.59},
            {"feature": "missing:csat", "label": "no data for latest CSAT", "effect": 0.1, "value": None},
        ],
    )  # fmt: skip
    client.force_login(csm)
    html = client.get(reverse("health:account-health", args=[account.pk])).content.decode()
    assert "no data for latest NPS" not in html and "latest NPS on record" in html
    assert "MRR change in 90 days" in html and "no data for latest CSAT" in html
    priorities = client.get(reverse("health:priorities")).content.decode()
    assert account.name in priorities and "no data for latest NPS" not in priorities


def test_days_to_renewal_driver_is_the_renewal_date_the_page_shows(client, csm):
    # The lab's feature counts 30-day months from the first start (9 days); the page's renewal is 11 days away.
    account = AccountFactory(owner=csm, renewal_date=timezone.localdate() + dt.timedelta(days=11))
    driver = {"feature": "days_to_renewal", "label": "days to renewal", "effect": 0.4, "value": 9.0}
    _scored(account, band="yellow", score=49, probability=0.02, drivers=[driver])
    AccountMetrics.objects.filter(account=account).update(days_to_renewal=11)
    client.force_login(csm)
    html = client.get(reverse("health:account-health", args=[account.pk])).content.decode()
    assert "days to renewal = 11" in html and "= 9" not in html


def test_a_missing_fact_still_reads_no_data():
    from health.selectors.drivers import churn_drivers

    rows = churn_drivers(
        drivers=[{"feature": "num__missingindicator_csat", "label": "x", "effect": 0.2, "value": None}],
        facts={"csat": None},
    )
    assert rows[0]["label"] == "no data for latest CSAT"


def test_green_account_with_high_risk_is_explained():
    breakdown = [
        {"label": "active days", "normalised": 95, "missing": False},
        {"label": "latest NPS", "normalised": 90, "missing": False},
    ]
    drivers = [{"label": "days to renewal", "value": 2.0, "effect": 0.5}]
    story = churn_risk_story(
        band="green", score=90, probability=0.55, horizon_days=90, drivers=drivers, breakdown=breakdown
    )
    assert story.startswith("Usage is healthy (active days and latest NPS), score 90")
    assert "days to renewal 2" in story and "55 %" in story
    assert churn_risk_story(band="green", score=90, probability=0.1, horizon_days=90, drivers=[], breakdown=[]) == ""


STORY_CASES = [
    # band, score, probability, what the sentence must say (None: the two agree, no sentence)
    ("red", 30, 0.004, "Health is red (30)"),
    ("red", 30, 0.10, "Health is red (30)"),
    ("red", 30, 0.60, None),
    ("green", 90, 0.05, None),
    ("green", 90, 0.55, "Usage is healthy"),
    ("yellow", 55, 0.05, "renewal risk is lower than the band suggests"),
    ("yellow", 55, 0.25, "both say watch this account"),
    ("yellow", 55, 0.60, "renewal risk is higher than the band suggests"),
]


@pytest.mark.parametrize(("band", "score", "probability", "says"), STORY_CASES)
def test_every_band_and_risk_combination_reads_one_consistent_story(client, csm, band, score, probability, says):
    import re

    account = AccountFactory(owner=csm)
    drivers = [{"feature": "num__active_days_30", "label": "active days", "effect": 0.3, "value": 1.0}]
    _scored(account, band=band, score=score, probability=probability, drivers=drivers)
    client.force_login(csm)
    html = client.get(reverse("health:account-health", args=[account.pk])).content.decode()
    shown = re.search(r'id="churn-risk">([^<]+)<', html).group(1)
    story = re.search(r'id="risk-story">([^<]+)<', html)
    if says is None:
        assert story is None
        return
    text = story.group(1)
    assert says in text and (f"({score})" in text or f"score {score}" in text)
    # The sentence quotes the risk exactly as the page's churn-risk figure prints it, and names no other figure.
    assert shown in text and re.findall(r"(?:&lt;)?\d+ %", text) == [shown]
    assert ("higher" in text) == (probability >= 0.40 and band != "green")
    assert ("lower than the band" in text) == (probability < 0.15)


def test_latest_answer_is_the_newest_by_time_then_id(db):
    account = AccountFactory()
    contact = ContactFactory(account=account)
    at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    SurveyResponseFactory(account=account, contact=contact, kind="nps", score=3, responded_at=at)
    SurveyResponseFactory(account=account, contact=contact, kind="nps", score=9, responded_at=at)
    SurveyResponseFactory(account=account, contact=contact, kind="nps", score=1, responded_at=at - dt.timedelta(1))
    assert latest_survey_scores(kind="nps") == {account.pk: 9}
    assert latest_survey_scores(kind="nps", before=at) == {account.pk: 1}


def test_meaningful_activity_is_defined_where_the_factor_shows(client, csm):
    from health.conf import meaningful_activity_definition
    from health.models import UsageDaily

    account = AccountFactory(owner=csm, last_seen_at=timezone.now() - dt.timedelta(days=2))
    UsageDaily.objects.create(account=account, day=timezone.localdate() - dt.timedelta(days=91), events=9,
                              key_events=4, active_users=1, meaningful=True)  # fmt: skip
    _scored(account, band="yellow", score=50, probability=0.3, drivers=[])
    client.force_login(csm)
    html = client.get(reverse("health:account-health", args=[account.pk])).content.decode()
    definition = meaningful_activity_definition()
    assert "at least 2 key events" in definition and "campaign sent" in definition
    assert "A meaningful day is a day on which one user did at least 2 key events" in html
    assert "counts from the last meaningful day:" in html and "the last event of any kind was 2" in html
    usage = client.get(reverse("account-section", args=[account.pk, "usage"])).content.decode()
    assert "count meaningful days only" in usage
