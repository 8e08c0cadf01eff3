"""The machine's limit for a benchmark: a raw PostgreSQL COPY of the same rows into a plain table.

DESIGN.md ("Performance targets"): every ingestion figure is printed next to this baseline, measured in the same
run on the same data. The plain table has a bigserial key and the file's columns with their natural types
(`jsonb` for JSON, `timestamptz` for times) and no secondary index, so the figure is what the disk and the
server's parser can do, not what our own indexed table allows.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import IO

from django.db import connection


@dataclass(frozen=True)
class Limit:
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / max(self.seconds, 1e-9)


def plain_copy(*, columns: list[tuple[str, str]], source: IO, csv_header: bool = False) -> Limit:
    """COPY `source` (PostgreSQL text format, or CSV with a header line when `csv_header`) into a fresh plain
    table of these (name, SQL type) columns in this order; the table is dropped afterwards. Outside a transaction
    (as the benchmarks run) the COPY commits by itself, so its time includes writing and flushing the WAL."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The raw COPY baseline needs PostgreSQL.")
    table = f"bench_limit_{secrets.token_hex(4)}"
    names = ", ".join(name for name, _ in columns)
    definition = ", ".join(f"{name} {kind}" for name, kind in columns)
    options = " WITH (FORMAT csv, HEADER true)" if csv_header else ""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, {definition})")
        try:
            started = time.perf_counter()
            cursor.cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN{options}", source)
            seconds = time.perf_counter() - started
            cursor.execute(f"SELECT count(*) FROM {table}")
            [rows] = cursor.fetchone()
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return Limit(rows=rows, seconds=seconds)
