"""Calendar arithmetic for KPI periods. Dates are calendar dates; "instant D" means D at 00:00 UTC."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from churnapp.months import add_months


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def is_month_start(day: dt.date) -> bool:
    return day.day == 1


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from the month of `start` to the month of `end`."""
    return (end.year - start.year) * 12 + end.month - start.month


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def instant(day: dt.date) -> dt.datetime:
    """The instant 00:00 UTC of `day`."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


INTERVAL_MONTHS = {"month": 1, "quarter": 3}


def split_periods(start: dt.date, end: dt.date, interval: str = "month") -> list[tuple[dt.date, dt.date]]:
    """[start, end) cut at calendar month (or quarter) starts: consecutive periods, the first and last maybe partial.

    >>> split_periods(dt.date(2024, 1, 15), dt.date(2024, 3, 1))
    [(datetime.date(2024, 1, 15), datetime.date(2024, 2, 1)), (datetime.date(2024, 2, 1), datetime.date(2024, 3, 1))]
    """
    step = INTERVAL_MONTHS[interval]
    boundary = quarter_start(start) if interval == "quarter" else month_start(start)
    periods: list[tuple[dt.date, dt.date]] = []
    cursor = start
    while cursor < end:
        boundary = add_months(boundary, step)
        upper = min(boundary, end)
        periods.append((cursor, upper))
        cursor = upper
    return periods


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month starts from `first` to `last` inclusive (both month starts)."""
    return [add_months(first, k) for k in range(months_between(first, last) + 1)]


_WINDOW = re.compile(r"^(?P<count>[1-9][0-9]{0,2})(?P<unit>[dm])$")


@dataclass(frozen=True)
class Window:
    """An inactivity window: `count` days (`30d`) or calendar months (`1m`)."""

    count: int
    unit: str  # "d" or "m"

    @classmethod
    def parse(cls, text: str) -> Window:
        match = _WINDOW.match(text.strip())
        if not match:
            raise ValueError(_("Use a number of days or calendar months, e.g. 30d or 1m."))
        window = cls(int(match["count"]), match["unit"])
        if (window.unit == "d" and window.count > 366) or (window.unit == "m" and window.count > 12):
            raise ValueError(_("The window is at most 366 days or 12 months."))
        return window

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    def before(self, day: dt.date) -> dt.date:
        """The date `day` minus the window (instants at 00:00 UTC, so the difference is whole days)."""
        if self.unit == "m":
            return add_months(day, -self.count)
        return day - dt.timedelta(days=self.count)

    def bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """(low, high) of the half-open window (day − W, day]: an event counts when low < occurred_at <= high."""
        return instant(self.before(day)), instant(day)
