from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import Account
from automations.models import Enrolment, Playbook, Rule, RuleExecution

pytestmark = pytest.mark.django_db


def test_benchmark_command_prints_figures_and_leaves_nothing_to_act_on():
    out = io.StringIO()
    call_command("automations_benchmark", "--accounts", "60", "--sample", "10", stdout=out)
    text = out.getvalue()
    assert "10 rules over 60 accounts" in text and "recurring cycle" in text
    assert "Baseline" in text and "Phase 2" in text and "Crossing tick" in text
    assert Rule.objects.filter(key__startswith="bench-", enabled=False).count() == 10
    assert not RuleExecution.objects.exists()
    assert "Playbooks — task + wait steps of 10 due enrolments (10 now waiting)" in text
    assert not Enrolment.objects.exists() and not Playbook.objects.exists()
    call_command("automations_benchmark", "--cleanup", stdout=io.StringIO())
    assert not Account.objects.exists() and not Rule.objects.exists()
