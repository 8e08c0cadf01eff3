from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from health.models import CsmSentiment
from tests.health.factories import declining_history

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["viewer", "csm", "teammate", "manager"])
def test_every_role_reads_the_health_section(client, request, role, own_account):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("health:account-health", args=[own_account.pk]))
    assert response.status_code == 200
    assert b"Not scored yet" in response.content


def test_health_section_shows_breakdown_trend_and_changelog(client, csm, own_account, django_assert_max_num_queries):
    declining_history(own_account, end=timezone.localdate())
    client.force_login(csm)
    # + the last meaningful day and the metrics the churn drivers read: fixed, whatever the history.
    with django_assert_max_num_queries(14):
        response = client.get(reverse("health:account-health", args=[own_account.pk]))
    html = response.content.decode()
    assert "Breakdown" in html and "active days" in html
    assert "No data for latest NPS, latest CSAT, CSM sentiment" in html
    assert "score fell 18 points: active days 17→10 (−7)" in html and "2 new tickets" in html
    assert "green → yellow" in html
    script = html.split(f'id="health-trend-{own_account.pk}" type="application/json">')[1]
    chart = json.loads(script.split("</script>")[0])
    assert len(chart["data"]["labels"]) == 60
    assert chart["data"]["datasets"][0]["data"][-1] < chart["data"]["datasets"][0]["data"][0]


def test_customer_360_loads_the_health_partial(client, csm, own_account):
    client.force_login(csm)
    html = client.get(reverse("account-detail", args=[own_account.pk])).content.decode()
    assert reverse("health:account-health", args=[own_account.pk]) in html


@pytest.mark.parametrize(
    ("role", "allowed"), [("csm", True), ("teammate", False), ("viewer", False), ("manager", True)]
)
def test_only_editors_rate_sentiment(client, request, role, allowed, own_account):
    client.force_login(request.getfixturevalue(role))
    response = client.post(
        reverse("health:sentiment-create", args=[own_account.pk]),
        {"rating": 2, "comment": "Sponsor left", "expires_on": (timezone.localdate() + dt.timedelta(days=30))},
    )
    assert response.status_code == (302 if allowed else 403)
    assert CsmSentiment.objects.exists() is allowed
