"""The backtest benchmark command runs end to end on a small synthetic history and leaves nothing behind."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import Account
from health.models import HealthSnapshot

pytestmark = pytest.mark.django_db


def test_benchmark_runs_every_builtin_rule_and_rolls_back():
    out = io.StringIO()
    call_command("automations_backtest_benchmark", accounts=60, months=2, stdout=out)
    text = out.getvalue()
    assert "Baseline (one aggregate" in text
    assert "health-below-70" in text and "silent-churn" in text
    assert "All 14 rules" in text
    assert "Scratch history rolled back." in text
    assert not Account.objects.filter(external_id__startswith="BENCH-").exists()
    assert not HealthSnapshot.objects.exists()


def test_benchmark_commit_keeps_the_history():
    out = io.StringIO()
    call_command("automations_backtest_benchmark", accounts=20, months=1, commit=True, stdout=out)
    assert "All 14 rules" in out.getvalue()
    assert Account.objects.filter(external_id__startswith="BENCH-").count() == 20
