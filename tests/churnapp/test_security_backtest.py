"""The health backtest's `months` is validated: a clear error for a non-number, capped to a sane maximum."""

from __future__ import annotations

import pytest
from django.urls import reverse

from health import selectors
from health.forms import MAX_BACKTEST_MONTHS
from health.models import HealthProfile
from tests.health.test_pages import _form

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile():
    return HealthProfile.objects.get(segment="")


@pytest.mark.parametrize(
    ("months", "message"),
    [("twelve", "must be a whole number"), ("1e9", "must be a whole number"), ("100000000", "at most 36"),
     ("0", "at least 1")],
)  # fmt: skip
def test_bad_months_is_a_form_error_not_a_server_error(client, manager, profile, months, message, monkeypatch):
    called = []
    monkeypatch.setattr(selectors, "profile_backtest", lambda **kwargs: called.append(kwargs))
    client.force_login(manager)
    response = client.post(reverse("health:profile-backtest", args=[profile.pk]), _form(months=months))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert called == []


def test_months_within_bounds_reach_the_backtest(client, manager, profile, monkeypatch):
    called = []
    monkeypatch.setattr(
        selectors, "profile_backtest", lambda **kwargs: called.append(kwargs) or {"n": 0, "message": "x"}
    )
    client.force_login(manager)
    client.post(reverse("health:profile-backtest", args=[profile.pk]), _form(months=str(MAX_BACKTEST_MONTHS)))
    client.post(reverse("health:profile-backtest", args=[profile.pk]), _form(months=""))
    assert [c["months"] for c in called] == [MAX_BACKTEST_MONTHS, 12]
