"""Calendar-month arithmetic, the one definition every app uses (periods, renewals, observation dates)."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus `months` calendar months, clamped to the month's last day (PostgreSQL's `interval '1 month'`)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_start_after(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` months after `day`'s month (negative: before)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, 1)
