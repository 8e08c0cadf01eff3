from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from dashboards.models import FactRunStatus, KpiFactRun

pytestmark = pytest.mark.django_db


def test_refresh_kpi_facts_command(book):
    out = io.StringIO()
    call_command("refresh_kpi_facts", months=6, stdout=out)
    run = KpiFactRun.objects.get()
    assert run.status == FactRunStatus.COMPLETE
    assert f"{run.period_rows:,} period rows" in out.getvalue()


def test_benchmark_pages_prints_the_scale_and_percentiles(book, manager):
    out = io.StringIO()
    call_command("benchmark_pages", requests=2, accounts=2, user=manager.username, stdout=out)
    text = out.getvalue()
    assert "Scale: 11 accounts, 14 subscriptions, 0 usage events, 0 survey responses" in text
    assert "/dashboard/widgets/kpi-cards/" in text
    assert "Customer 360 /accounts/<id>/ (2 accounts)" in text
    assert "p95 ms" in text and "Target p95 ≤ 150 ms" in text


def test_benchmark_pages_needs_a_user(db):
    with pytest.raises(CommandError, match="No such user"):
        call_command("benchmark_pages", requests=1, user="nobody", stdout=io.StringIO())
