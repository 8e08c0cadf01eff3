"""The one CSV writer of every export (dashboard widgets and drill-downs, import error reports, the import command's
error file).

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or carriage return) as a formula,
so a customer-controlled value such as an account named `=HYPERLINK("http://x")` would go out live ("CSV
injection"). Text cells starting with one of those characters get a leading apostrophe, which spreadsheets show as
text and do not display. Numbers stay numbers: int, float and Decimal cells, and text that is just a number
(`-12.5`), are written as they are.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet (see the module docstring)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeCsvWriter:
    """`csv.writer` whose rows go through `csv_cell`; `writerow` returns what the target's `write` returned."""

    def __init__(self, target, **fmtparams):
        self._writer = csv.writer(target, **fmtparams)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class _Echo:
    """A file-like object whose `write` returns the line, so the writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_response(*, filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    """Stream rows as a CSV attachment through the safe writer."""
    writer = SafeCsvWriter(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
