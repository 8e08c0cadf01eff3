"""automations_report: per-rule matches, executions and effects; per-playbook enrolments; --run fires built-ins."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from automations import builtins, reports
from automations.models import Rule
from tests.factories import AccountFactory, ContactFactory, SupportTicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    """Two low-health accounts (one with three recent tickets), one healthy account; no one inactive."""
    owner = UserFactory(username="olive", email="olive@example.com", role="CSM")
    UserFactory(username="lead", email="lead@example.com", role="Manager")
    busy = AccountFactory(name="Busyco", health_score=50, owner=owner)
    ContactFactory(account=busy, email="ann@busy.example")
    SupportTicketFactory.create_batch(3, account=busy)
    AccountFactory(name="Lowco", health_score=60, owner=owner)
    AccountFactory(name="Fineco", health_score=95, owner=owner)
    builtins.builtins_install()
    return busy


def _by_key(rows):
    return {row.key: row for row in rows}


def test_report_before_a_run_counts_matches_only(data):
    report = _by_key(reports.rule_report())
    health = report["health-below-70"]
    assert (health.enabled, health.matching, health.would_fire, health.executions) == (False, 2, 2, 0)
    assert health.actions == {} and health.emails == {}


def test_run_enables_the_builtins_and_reports_what_fired(data):
    cycle = reports.report_run_builtins()
    assert cycle["rules"] == len(builtins.RULES) and not Rule.objects.filter(enabled=False).exists()
    report = _by_key(reports.rule_report())

    health = report["health-below-70"]
    assert (health.matching, health.would_fire) == (2, 0)  # both in cooldown now
    assert (health.executions, health.succeeded, health.failed) == (2, 2, 0)
    assert health.actions == {"tasks": 2}

    tickets = report["three-tickets-7-days"]
    assert (tickets.executions, tickets.succeeded, tickets.failed, tickets.actions_failed) == (1, 1, 0, 0)
    assert tickets.actions == {"status_changes": 1, "tasks": 1, "notifications": 1}
    assert sum(tickets.emails.values()) == 1 and set(tickets.emails) <= {"queued", "sent"}

    idle = report["no-login-10-days"]  # nobody is inactive: matches nothing, did nothing
    assert (idle.matching, idle.would_fire, idle.executions, idle.actions, idle.emails) == (0, 0, 0, {}, {})


def test_playbook_counts(data):
    reports.report_run_builtins()
    playbooks = _by_key(reports.playbook_report())
    several = playbooks["several-tickets"]  # 4 tickets needed: nobody enrolled
    assert (several.total, several.active, several.completed, several.held_out) == (0, 0, 0, 0)


def test_command_prints_the_report(data):
    out = StringIO()
    call_command("automations_report", "--run", stdout=out)
    text = out.getvalue()
    assert f"Cycle: {len(builtins.RULES)} rules evaluated, 3 fired, 3 executions run." in text
    assert "- health-below-70 (enabled): matching now 2, would fire now 0" in text
    assert "executions 2: succeeded 2, partial 0, failed 0, pending 0; failed actions 0" in text
    assert "tasks 2, status changes 0, tags 0, notifications 0, enrolments 0; emails: queued 0, sent 0" in text
    assert "- no-login-10-days (enabled): matching now 0, would fire now 0" in text
    assert "- several-tickets: enrolments 0: active 0, completed 0, stopped 0, held out 0" in text
