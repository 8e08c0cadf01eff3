"""What the formulas share: the row type, cents to money, the reasons collected for null keys, and the length of
a month in days."""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]


def money_value(cents: int) -> float:
    return round(cents / 100, 2)


class Reasons(dict):
    def ratio(self, key: str, numerator: float, denominator: float, reason: str) -> float | None:
        if not denominator:
            self[key] = reason
            return None
        return numerator / denominator


DAYS_PER_MONTH = 365.25 / 12  # a month of the purchase frequency and of lifetimes in months
