"""The installation's reporting currency (setting CURRENCY, an ISO 4217 code) and how an amount in it reads.

Every amount churnapp stores and reports (MRR, ARPA, CLV, revenue at risk, goal targets) is in this one currency;
pages, exports and the API docs name it. Formatting is Babel's (CLDR data): "$5,750", "€5,750", "£5,750", and a
currency without a sign of its own in English by its code, "BGN 5,750".
"""

from __future__ import annotations

from decimal import Decimal

from babel import Locale
from babel.numbers import get_currency_symbol, list_currencies, parse_pattern
from django.conf import settings
from django.core import checks
from django.utils import translation

LOCALE = "en_US"  # English amounts follow US conventions
MINUS = "\u2212"  # a real minus sign, as wide as the plus, never a hyphen


def currency() -> str:
    return getattr(settings, "CURRENCY", "USD")


def currency_symbol() -> str:
    return get_currency_symbol(currency(), locale=LOCALE)


def format_money(amount: Decimal | float | int, places: int = 0) -> str:
    """`amount` in the reporting currency, grouped, with `places` decimals, as the active language writes it:
    "−$5,750.25" in English, "−5.750,25 €" in Italian, "−5 750,25 лв." in Bulgarian."""
    number = Decimal(str(amount))
    locale = Locale.parse(translation.to_locale(translation.get_language() or "en"))
    if locale.language == "en":
        digits = "#,##0" + ("." + "0" * places if places > 0 else "")
        symbol = currency_symbol()
        pattern = parse_pattern(("¤\u00a0" if symbol.isalpha() and len(symbol) > 1 else "¤") + digits)
        locale = Locale.parse(LOCALE)
    else:
        pattern = parse_pattern(locale.currency_formats["standard"].pattern)
        pattern.frac_prec = (places, places)
    text = pattern.apply(abs(number), locale, currency=currency(), currency_digits=False)
    return f"{MINUS}{text}" if round(number, places) < 0 else text


def currency_code(value: str) -> str:
    """`value` as an ISO 4217 code ("eur " → "EUR"); ValueError with the reason if it is none."""
    code = (value or "").strip().upper()
    if code not in list_currencies():
        raise ValueError(f"{code!r} is not an ISO 4217 currency code.")
    return code


def foreign_currency_code(value: str) -> str:
    """`value` as an ISO 4217 code other than the reporting currency (the ones an exchange rate is kept for)."""
    code = currency_code(value)
    if code == currency():
        raise ValueError(f"{code} is the reporting currency: it needs no rate.")
    return code


@checks.register()
def check_currency(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    code = currency()
    if code in list_currencies():
        return []
    return [
        checks.Error(
            f"CURRENCY={code!r} is not an ISO 4217 currency code.",
            hint="Set CURRENCY to the installation's reporting currency, e.g. USD, EUR, GBP or BGN.",
            id="churnapp.E002",
        )
    ]
