"""Amounts in another currency than the reporting one: converted with the admin's dated rates, or refused.

Every stored amount (`Subscription.mrr`) is in the reporting currency (setting CURRENCY), so every KPI adds like
with like. A subscription priced in EUR keeps its own figure (`original_mrr`, `currency`) and the rate used
(`exchange_rate`); its `mrr` is that figure times the rate valid on its start date, and the MRR of any date
revalues it at that date's rate (`accounts.selectors.foreign_mrr_on`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _

from accounts.models import ExchangeRate, Subscription
from churnapp import hooks
from churnapp.money import foreign_currency_code


def exchange_rate_set(*, code: str, valid_from: dt.date, rate: Decimal) -> ExchangeRate:
    """Add the rate of `code` from `valid_from` on, or correct the one of that day. A subscription keeps the rate it
    was booked with (`mrr`, `exchange_rate`); its MRR at each date is revalued at that date's rate (accounts.rates)."""
    code = foreign_currency_code(code)
    if rate <= 0:
        raise ValueError(_("A rate is a positive number."))
    found, _created = ExchangeRate.objects.update_or_create(
        currency=code, valid_from=valid_from, defaults={"rate": rate}
    )
    _revalue(code)
    return found


def exchange_rate_delete(*, rate: ExchangeRate) -> None:
    rate.delete()
    _revalue(rate.currency)


def _revalue(code: str) -> None:
    """Subscriptions priced in `code` count at the rate of each date: their cached MRR and the facts follow."""
    if Subscription.objects.filter(currency=code).exists():
        hooks.notify(hooks.EXCHANGE_RATES_CHANGED, code)
