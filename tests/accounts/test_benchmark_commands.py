"""The ingestion benchmarks print our path next to the machine's limit: a raw COPY of the same rows into a plain
table (DESIGN.md, "Performance targets"), and leave nothing behind."""

from __future__ import annotations

import csv
import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import Account, ImportJob, UsageEvent
from churnapp.benchmarking import plain_copy

pytestmark = pytest.mark.django_db


def _plain_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'bench_limit_%%'")
        return [name for (name,) in cursor.fetchall()]


def test_import_benchmark_needs_postgresql_or_runs():
    out = StringIO()
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("benchmark_import", "--events", "10", stdout=out)
        return
    call_command("benchmark_import", "--events", "3000", "--accounts", "30", stdout=out)
    text = out.getvalue()
    assert "COPY, plain table (the limit)" in text and "import_data (events)" in text
    assert "3,000 rows: 3,000 created, 0 unchanged, 0 failed" in text
    assert "ratio import / limit:" in text
    assert not Account.objects.filter(external_id__startswith="bench-imp-").exists()
    assert not UsageEvent.objects.exists() and not ImportJob.objects.exists()
    assert _plain_tables() == []


def test_import_benchmark_refuses_a_file_that_is_not_an_events_file(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,name\nacc-1,Acme\n")
    expected = "unknown columns" if connection.vendor == "postgresql" else "PostgreSQL"
    with pytest.raises(CommandError, match=expected):
        call_command("benchmark_import", "--file", str(path), stdout=StringIO())


def test_plain_copy_counts_the_rows_it_copied_and_drops_its_table():
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerows([["account_id", "event_time", "properties"], ["acc-1", "2024-01-01T00:00:00+00:00", "{}"],
                      ["acc-2", "2024-01-02T10:00:00+00:00", '{"a": 1, "b": "x,y"}']])  # fmt: skip
    columns = [("account_id", "text"), ("event_time", "timestamptz"), ("properties", "jsonb")]
    if connection.vendor != "postgresql":
        with pytest.raises(RuntimeError, match="PostgreSQL"):
            plain_copy(columns=columns, source=io.StringIO(text.getvalue()), csv_header=True)
        return
    limit = plain_copy(columns=columns, source=io.StringIO(text.getvalue()), csv_header=True)
    assert limit.rows == 2 and limit.seconds > 0 and limit.rate > 0
    assert _plain_tables() == []
