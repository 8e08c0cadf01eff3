"""Dated exchange rates: a subscription priced in another currency is booked at the rate valid on its start date,
and its MRR at any later date is revalued at the rate valid then (the rate of the period), so KPIs of a month use
that month's rate. Decimal arithmetic, rounded half up to the cent, the same in every database.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import ExchangeRate, Subscription
from churnapp.money import currency as reporting_currency

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
                _(
                    "No exchange rate for %(code)s on or before %(day)s: a manager adds one under "
                    "/settings/exchange-rates/ (units of %(reporting)s per %(code)s)."
                )
                % {"code": code, "day": day.isoformat(), "reporting": reporting_currency()}
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

    def revalue(self, *, code: str, original: Decimal, booked: Decimal, day: dt.date) -> Decimal:
        """The MRR at `day` of `original` in `code`: at that day's rate; the booked amount when no rate covers it
        (a rate deleted since the booking)."""
        try:
            return (Decimal(original) * self.rate(code, day)).quantize(CENT, rounding=ROUND_HALF_UP)
        except NoRate:
            return booked


# Subscriptions priced in the reporting currency: their `mrr` is their MRR at every date. The others are revalued at
# each date's rate by `foreign_mrr_on`.
IN_REPORTING_CURRENCY = Q(currency="")


def foreign_mrr_on(
    days: Sequence[dt.date], *, account_ids: Iterable[int] | None = None, scope: QuerySet | None = None
) -> dict[dt.date, dict[int, Decimal]]:
    """MRR per account at each of `days` of the subscriptions priced in another currency, each at the rate valid on
    that day (the rate of the period; the booked amount where no rate covers the day). One query: foreign-currency
    subscriptions are few, their rates load in one more, and each day is a lookup in those."""
    by_day: dict[dt.date, dict[int, Decimal]] = {day: {} for day in days}
    if not days:
        return by_day
    subs = Subscription.objects.exclude(IN_REPORTING_CURRENCY).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=min(days)), start_date__lte=max(days)
    )
    if account_ids is not None:
        subs = subs.filter(account_id__in=list(account_ids))
    if scope is not None:
        subs = subs.filter(account__in=scope)
    rows = list(subs.values_list("account_id", "start_date", "end_date", "currency", "original_mrr", "mrr"))
    rates = Rates({row[3] for row in rows})
    for account_id, start, end, code, original, booked in rows:
        for day in days:
            if start <= day and (end is None or end > day):  # active_on_q(day)
                revalued = original and booked  # a paused stretch books 0 and stays 0
                amount = rates.revalue(code=code, original=original, booked=booked, day=day) if revalued else booked
                by_day[day][account_id] = by_day[day].get(account_id, Decimal(0)) + amount
    return by_day
