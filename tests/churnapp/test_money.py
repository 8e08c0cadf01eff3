"""The reporting currency: one setting, every amount formatted with its sign, an unknown code refused at start-up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from accounts.models import ExchangeRate
from churnapp import money
from churnapp.apikeys import api_key_create
from churnapp.money import check_currency, format_money
from tests.factories import AccountFactory


@pytest.mark.parametrize(
    ("code", "amount", "places", "text"),
    [
        ("USD", 5750, 0, "$5,750"),
        ("USD", Decimal("-5750.25"), 2, "\u2212$5,750.25"),
        ("EUR", 5750.4, 0, "€5,750"),
        ("GBP", Decimal("1234567.891"), 2, "£1,234,567.89"),
        ("BGN", 5750, 0, "BGN\u00a05,750"),
        ("EUR", Decimal("-0.004"), 2, "€0.00"),
    ],
)
def test_amounts_read_in_the_reporting_currency(settings, code, amount, places, text):
    settings.CURRENCY = code
    assert format_money(amount, places) == text


def test_the_money_filter_on_a_page_follows_the_setting(settings):
    settings.CURRENCY = "EUR"
    assert Template("{{ v|money }} {{ none|money }}").render(Context({"v": 12500, "none": None})) == "€12,500 —"


def test_an_unknown_currency_code_stops_start_up(settings):
    settings.CURRENCY = "EURO"
    [error] = check_currency()
    assert error.id == "churnapp.E002" and "EURO" in error.msg
    with pytest.raises(SystemCheckError):
        call_command("check")
    settings.CURRENCY = "EUR"
    assert check_currency() == []


@pytest.mark.django_db
def test_pages_and_api_docs_name_the_currency(settings, client, manager):
    settings.CURRENCY = "EUR"
    AccountFactory(name="Euro Co", mrr=Decimal("1200"))
    client.force_login(manager)
    page = client.get(reverse("account-list")).content.decode()
    assert "€1,200" in page and "$1,200" not in page
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").content.decode()
    assert "reporting currency" in schema


@pytest.mark.django_db
def test_mixed_currency_subscriptions_add_up_in_the_reporting_currency_in_the_kpis(client):
    AccountFactory(external_id="a-1")
    AccountFactory(external_id="a-2")
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2024, 1, 1), rate=Decimal("1.10"))
    _, secret = api_key_create(name="crm", scopes=["write"])
    rows = [
        {"account": "a-1", "product": "growth", "mrr": "100.00", "start_date": "2024-01-01"},
        {"account": "a-2", "product": "growth", "mrr": "200.00", "start_date": "2024-01-01", "currency": "EUR"},
    ]
    response = client.post(
        reverse("api:subscription-bulk"), {"rows": rows}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )  # fmt: skip
    assert response.status_code in (200, 201), response.content
    _, reader = api_key_create(name="bi", scopes=["read"])
    arpa = client.get("/api/v1/kpis/arpa/", {"start": "2024-02-01", "end": "2024-03-01"},
                      HTTP_AUTHORIZATION=f"Bearer {reader}")  # fmt: skip
    assert arpa.status_code == 200, arpa.content
    assert (arpa.json()["mrr"], arpa.json()["arpa"]) == (320.0, 160.0)  # 100 USD + 200 EUR × 1.10, over 2 accounts


@pytest.mark.django_db
def test_the_api_refuses_a_subscription_in_a_currency_without_a_rate(client):
    AccountFactory(external_id="a-1")
    _, secret = api_key_create(name="crm", scopes=["write"])
    row = {"account": "a-1", "product": "growth", "mrr": "100.00", "start_date": "2024-01-01", "currency": "EUR"}
    response = client.post(
        reverse("api:subscription-bulk"), {"rows": [row]}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )  # fmt: skip
    assert response.status_code == 400
    assert "No exchange rate for EUR on or before 2024-01-01" in str(response.json())


@pytest.mark.django_db
def test_a_partial_update_of_a_converted_subscription_does_not_convert_twice(client):
    AccountFactory(external_id="a-1")
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2024, 1, 1), rate=Decimal("1.10"))
    _, secret = api_key_create(name="crm", scopes=["write"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    row = {"account": "a-1", "product": "growth", "mrr": "200.00", "start_date": "2024-01-01", "currency": "EUR"}
    created = client.post(reverse("api:subscription-list"), row, content_type="application/json", **auth)
    assert created.status_code == 201, created.content
    assert (created.json()["mrr"], created.json()["currency"], created.json()["original_mrr"]) == (
        "220.00",
        "EUR",
        "200.00",
    )
    url = reverse("api:subscription-detail", args=[created.json()["id"]])
    patched = client.patch(url, {"quantity": 3}, content_type="application/json", **auth)
    assert patched.status_code == 200, patched.content
    assert (patched.json()["mrr"], patched.json()["quantity"]) == ("220.00", 3)


@pytest.mark.django_db
def test_a_manager_keeps_the_exchange_rates_on_their_page(client, manager):
    client.force_login(manager)
    url = reverse("exchange-rates")
    response = client.post(url, {"currency": "eur", "valid_from": "2024-01-01", "rate": "1.10"}, follow=True)
    assert "1 EUR = 1.1 USD from 2024-01-01." in response.content.decode()
    client.post(url, {"currency": "EUR", "valid_from": "2024-01-01", "rate": "1.12"})  # corrects that day's rate
    assert list(ExchangeRate.objects.values_list("currency", "rate")) == [("EUR", Decimal("1.12000000"))]
    for bad, message in [
        ({"currency": "USD", "valid_from": "2024-01-01", "rate": "1"}, "USD is the reporting currency"),
        ({"currency": "EURO", "valid_from": "2024-01-01", "rate": "1"}, "Ensure this value has at most 3 characters"),
        ({"currency": "XQQ", "valid_from": "2024-01-01", "rate": "1"}, "not an ISO 4217 currency code"),
        ({"currency": "GBP", "valid_from": "2024-01-01", "rate": "-1"}, "greater than or equal to"),
        ({"currency": "GBP", "valid_from": "someday", "rate": "1"}, "Enter a valid date"),
    ]:
        response = client.post(url, bad)
        assert response.status_code == 400 and message in response.content.decode(), bad
    rate = ExchangeRate.objects.get()
    client.post(reverse("exchange-rate-delete", args=[rate.pk]))
    assert not ExchangeRate.objects.exists()


@pytest.mark.parametrize("value", ["eur", " EUR ", "Eur"])
def test_currency_code_normalises_an_iso_code(value):
    assert money.currency_code(value) == "EUR"


@pytest.mark.parametrize("value", ["", "EURO", "XYZ", "€"])
def test_currency_code_refuses_what_is_not_iso_4217(value):
    with pytest.raises(ValueError, match="not an ISO 4217 currency code"):
        money.currency_code(value)


def test_foreign_currency_code_refuses_the_reporting_currency(settings):
    settings.CURRENCY = "EUR"
    assert money.foreign_currency_code("usd") == "USD"
    with pytest.raises(ValueError, match="EUR is the reporting currency"):
        money.foreign_currency_code("eur")


@pytest.mark.parametrize(
    ("language", "code", "expected"),
    [("it", "EUR", "5.750,25\u00a0€"), ("bg", "BGN", "5\u00a0750,25\u00a0лв."), ("en", "EUR", "€5,750.25")],
)
def test_amounts_read_as_the_active_language_writes_them(settings, language, code, expected):
    settings.CURRENCY = code
    with translation.override(language):
        assert format_money(Decimal("5750.25"), places=2) == expected
        assert format_money(Decimal("-5750.25"), places=2) == "\u2212" + expected
