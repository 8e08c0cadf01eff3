"""Amounts in another currency than the reporting one: converted with the admin's dated rates, or refused.

Every stored amount (`Subscription.mrr`) is in the reporting currency (setting CURRENCY), so every KPI adds like
with like. A subscription priced in EUR keeps its own figure (`original_mrr`, `currency`) and the rate used
(`exchange_rate`); its `mrr` is that figure times the rate valid on its start date.
"""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from accounts.models import ExchangeRate
from churnapp.money import currency as reporting_currency
from churnapp.money import foreign_currency_code

CENT = Decimal("0.01")


class NoRate(ValueError):
    """No rate covers the day: the amount cannot be converted (the message says what to add)."""


class Rates:
    """The rates of some currencies, loaded in one query, answering "the rate valid on day D"."""

    def __init__(self, currencies) -> None:
        wanted = {c for c in currencies if c and c != reporting_currency()}
        self._days: dict[str, list[dt.date]] = {}
        self._rates: dict[str, list[Decimal]] = {}
        rows = ExchangeRate.objects.filter(currency__in=wanted).order_by("currency", "valid_from")
        for code, day, rate in rows.values_list("currency", "valid_from", "rate"):
            self._days.setdefault(code, []).append(day)
            self._rates.setdefault(code, []).append(rate)

    def rate(self, code: str, day: dt.date) -> Decimal:
        days = self._days.get(code, [])
        at = bisect.bisect_right(days, day) - 1
        if at < 0:
            raise NoRate(
                f"No exchange rate for {code} on or before {day.isoformat()}: a manager adds one under "
                f"/settings/exchange-rates/ (units of {reporting_currency()} per {code})."
            )
        return self._rates[code][at]

    def convert(self, *, code: str, amount: Decimal, day: dt.date) -> dict:
        """The subscription fields for `amount` priced in `code` from `day`: mrr (reporting currency), currency,
        original_mrr, exchange_rate. Raises NoRate."""
        code = (code or "").upper()
        if not code or code == reporting_currency():
            return {"mrr": amount, "currency": "", "original_mrr": None, "exchange_rate": None}
        rate = self.rate(code, day)
        converted = (Decimal(amount) * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        return {"mrr": converted, "currency": code, "original_mrr": amount, "exchange_rate": rate}


def exchange_rate_set(*, code: str, valid_from: dt.date, rate: Decimal) -> ExchangeRate:
    """Add the rate of `code` from `valid_from` on, or correct the one of that day. Subscriptions already recorded
    keep the rate they were converted with; one recorded again (a re-import, Stripe's next event) takes the new one."""
    code = foreign_currency_code(code)
    if rate <= 0:
        raise ValueError("A rate is a positive number.")
    found, _ = ExchangeRate.objects.update_or_create(currency=code, valid_from=valid_from, defaults={"rate": rate})
    return found


def exchange_rate_delete(*, rate: ExchangeRate) -> None:
    rate.delete()
