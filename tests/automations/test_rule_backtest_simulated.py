"""Every built-in rule backtests on the simulator's history (derived state built as the demo builds it)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from automations.backtest import rule_backtest
from automations.builtins import RULES

pytestmark = pytest.mark.django_db

DERIVE = [
    ("refresh_snapshots", {}),
    ("rebuild_rollups", {}),
    ("recompute_health", {"backfill_days": 45}),
    ("automations_install_builtins", {}),
    ("automations_refresh_journeys", {}),
]


@pytest.fixture
def simulated(settings, tmp_path):
    settings.CHURNAPP_VAR_DIR = str(tmp_path)
    out = io.StringIO()
    call_command("simulate", accounts=40, months=12, seed=7, stdout=out)
    for name, options in DERIVE:
        call_command(name, stdout=out, **options)
    return timezone.localdate()


def test_every_builtin_rule_backtests_on_the_simulated_history(simulated):
    results = {key: rule_backtest(rule=key, months=12) for key, *_ in RULES}
    for key, result in results.items():
        assert result["accounts"] > 0, key
        assert result["churned"] > 0, key  # the simulator's books churn
        assert 0 <= result["fires"], key
        for figure in ("precision", "recall"):
            assert result[figure] is None or 0 <= result[figure] <= 1, (key, figure)
        assert len(result["weekly"]) >= 52, key
        assert result["accounts_fired"] <= result["accounts"], key
    # The rules reading usage, health and tickets fire on this history; the usage ones catch some churners.
    for key in ("health-below-70", "no-login-10-days", "inactive-14-playbook", "ticket-unresolved-48h"):
        assert results[key]["fires"] > 0, key
    assert results["inactive-14-playbook"]["recall"] > 0
    assert results["health-below-70"]["tasks_per_week"] > 0
