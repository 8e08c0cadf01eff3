from __future__ import annotations

import datetime as dt

import pytest

from dashboards.kpis.periods import Window, add_months, split_periods


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2024-01-31", 1, "2024-02-29"),  # clamped like PostgreSQL's interval '1 month'
        ("2023-03-31", -1, "2023-02-28"),
        ("2024-12-15", 1, "2025-01-15"),
        ("2024-01-01", -13, "2022-12-01"),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day, months, expected):
    assert add_months(dt.date.fromisoformat(day), months) == dt.date.fromisoformat(expected)


def test_split_periods_by_quarter():
    periods = split_periods(dt.date(2024, 2, 1), dt.date(2024, 8, 1), "quarter")
    assert periods == [
        (dt.date(2024, 2, 1), dt.date(2024, 4, 1)),
        (dt.date(2024, 4, 1), dt.date(2024, 7, 1)),
        (dt.date(2024, 7, 1), dt.date(2024, 8, 1)),
    ]


def test_windows_are_half_open_instants():
    low, high = Window.parse("1m").bounds(dt.date(2024, 3, 31))
    assert (low.isoformat(), high.isoformat()) == ("2024-02-29T00:00:00+00:00", "2024-03-31T00:00:00+00:00")
    assert Window.parse("30d").before(dt.date(2024, 3, 1)) == dt.date(2024, 1, 31)


@pytest.mark.parametrize("text", ["", "0d", "1w", "13m", "400d", "m", "-1d"])
def test_bad_windows_are_refused(text):
    with pytest.raises(ValueError, match="window|days"):
        Window.parse(text)
