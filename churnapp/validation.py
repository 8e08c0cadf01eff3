"""Input rules shared by every entry door (REST API, tracking API, file imports), so a value is accepted or refused
the same way whichever path it takes."""

from __future__ import annotations

import datetime as dt
from typing import Any

# Event times outside this window are client bugs; past its ends date arithmetic (a day after, clock-skew
# correction, monthly rollup chunks) overflows Python's datetime.
MIN_EVENT_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_EVENT_TIME = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
EVENT_TIME_RANGE = "years 1970–9000"


def event_time_problem(value: dt.datetime) -> str | None:
    """Why an (aware) event time is refused, or None."""
    if not MIN_EVENT_TIME <= value <= MAX_EVENT_TIME:
        return f"is out of range ({EVENT_TIME_RANGE})."
    return None


def nul_paths(data: Any, path: str = "") -> list[str]:
    """Paths (`custom_attributes.note`, `rows.3.properties`) of the strings and keys holding a NUL character, which
    PostgreSQL's text and jsonb cannot store."""
    found: list[str] = []
    if isinstance(data, str):
        if "\x00" in data:
            found.append(path or "non_field_errors")
    elif isinstance(data, dict):
        for key, value in data.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                found.append(child.replace("\x00", "\\u0000"))
            else:
                found += nul_paths(value, child)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += nul_paths(value, f"{path}.{index}" if path else str(index))
    return found


def date_fields_out_of_range(values: dict) -> list[str]:
    """Names of the date and date-time values outside the accepted window (the same as event times): a date in
    year 9999 or 1 is a client bug and would overflow date arithmetic downstream (renewals, KPI periods)."""
    low, high = MIN_EVENT_TIME.date(), MAX_EVENT_TIME.date()
    bad = []
    for name, value in values.items():
        if isinstance(value, dt.datetime):
            if event_time_problem(value if value.tzinfo else value.replace(tzinfo=dt.UTC)):
                bad.append(name)
        elif isinstance(value, dt.date) and not low <= value <= high:
            bad.append(name)
    return bad
