"""Subscriptions priced in another currency count at the rate of each period: the MRR of a date revalues them at
the rate valid on that date, in the KPIs (live and precomputed), the accounts' cached MRR and the MRR selectors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account, ExchangeRate, Subscription
from accounts.selectors import account_mrr_on, total_mrr_on
from accounts.services import account_refresh_snapshots
from accounts.services.currency import exchange_rate_delete, exchange_rate_set
from churnapp.apikeys import api_key_create
from dashboards import services as dashboard_services
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def book(client, settings):
    """100 USD at a-1, and 200 EUR at a-2 booked on 2024-01-01 at 1.10 (220 USD); EUR is worth 1.20 from March."""
    settings.CURRENCY = "USD"
    usd, eur = AccountFactory(external_id="a-1"), AccountFactory(external_id="a-2")
    ExchangeRate.objects.create(currency="EUR", valid_from=D(2024, 1, 1), rate=Decimal("1.10"))
    _, secret = api_key_create(name="crm", scopes=["write"])
    rows = [
        {"account": "a-1", "product": "growth", "mrr": "100.00", "start_date": "2024-01-01"},
        {"account": "a-2", "product": "growth", "mrr": "200.00", "start_date": "2024-01-01", "currency": "EUR"},
    ]
    response = client.post(
        "/api/v1/subscriptions/bulk/", {"rows": rows}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )  # fmt: skip
    assert response.status_code in (200, 201), response.content
    assert Subscription.objects.get(account=eur).mrr == Decimal("220.00")  # booked at the start date's rate
    ExchangeRate.objects.create(currency="EUR", valid_from=D(2024, 3, 1), rate=Decimal("1.20"))
    return usd, eur


def _kpi(client, name: str, start: str, end: str) -> dict:
    _, reader = api_key_create(name="bi", scopes=["read"])
    response = client.get(f"/api/v1/kpis/{name}/", {"start": start, "end": end}, HTTP_AUTHORIZATION=f"Bearer {reader}")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_mrr_of_a_date_uses_that_dates_rate(book):
    usd, eur = book
    assert account_mrr_on(day=D(2024, 2, 15)) == {usd.pk: Decimal("100.00"), eur.pk: Decimal("220.00")}
    assert account_mrr_on(day=D(2024, 3, 15)) == {usd.pk: Decimal("100.00"), eur.pk: Decimal("240.00")}
    assert account_mrr_on(day=D(2024, 3, 15), account_ids=[eur.pk]) == {eur.pk: Decimal("240.00")}
    assert (total_mrr_on(day=D(2024, 2, 1)), total_mrr_on(day=D(2024, 3, 1))) == (Decimal("320.00"), Decimal("340.00"))


def test_kpis_of_each_period_use_its_rate_live_and_precomputed(client, book):
    for _ in ("live", "facts"):
        assert _kpi(client, "arpa", "2024-01-01", "2024-02-01")["mrr"] == 320.0
        assert _kpi(client, "arpa", "2024-02-01", "2024-03-01")["mrr"] == 340.0  # 100 + 200 × 1.20
        nrr = _kpi(client, "net-retention", "2024-02-01", "2024-04-01")
        assert (nrr["start_mrr"], nrr["retained_mrr"]) == (320.0, 340.0)
        dashboard_services.kpi_facts_refresh(today=D(2024, 6, 1))


def test_cached_mrr_follows_todays_rate(book):
    usd, eur = book
    account_refresh_snapshots(today=D(2024, 2, 15))
    assert Account.objects.get(pk=eur.pk).mrr == Decimal("220.00")
    account_refresh_snapshots(today=D(2024, 3, 15))
    assert {a.pk: a.mrr for a in Account.objects.all()} == {usd.pk: Decimal("100.00"), eur.pk: Decimal("240.00")}


def test_without_a_rate_for_the_day_the_booked_amount_stands(book):
    _, eur = book
    ExchangeRate.objects.all().delete()
    assert account_mrr_on(day=D(2024, 3, 15))[eur.pk] == Decimal("220.00")


def test_a_changed_rate_recomputes_cached_mrr_and_facts(book, monkeypatch, django_capture_on_commit_callbacks):
    queued: list[str] = []

    class Chain:
        def __init__(self, *tasks):
            self.names = [t.task for t in tasks]

        def delay(self):
            queued.append(" then ".join(self.names))

    monkeypatch.setattr("dashboards.tasks.chain", Chain)
    with django_capture_on_commit_callbacks(execute=True):
        exchange_rate_set(code="EUR", valid_from=D(2024, 4, 1), rate=Decimal("1.30"))
    revalue = "accounts.tasks.refresh_account_snapshots then dashboards.tasks.refresh_kpi_facts"
    assert queued == [revalue]
    with django_capture_on_commit_callbacks(execute=True):
        exchange_rate_delete(rate=ExchangeRate.objects.get(valid_from=D(2024, 4, 1)))
    with django_capture_on_commit_callbacks(execute=True):
        exchange_rate_set(code="GBP", valid_from=D(2024, 4, 1), rate=Decimal("1.25"))  # nothing is priced in GBP
    assert queued == [revalue, revalue]
