"""The reporting currency: one setting, every amount formatted with its sign, an unknown code refused at start-up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.template import Context, Template
from django.urls import reverse

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
def test_the_api_refuses_a_subscription_in_another_currency(client):
    AccountFactory(external_id="a-1")
    _, secret = api_key_create(name="crm", scopes=["write"])
    row = {"account": "a-1", "product": "growth", "mrr": "100.00", "start_date": "2024-01-01"}
    rows = [{**row, "currency": "EUR"}, {**row, "product": "seats", "currency": "usd"}]
    response = client.post(
        reverse("api:subscription-bulk"), {"rows": rows}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )  # fmt: skip
    assert response.status_code == 400
    assert "reports in USD" in str(response.json())
