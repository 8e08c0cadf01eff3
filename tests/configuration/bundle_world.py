"""Data like the `make run` demo for the bundle tests: the built-in automations, templates, schedules and routes
the migrations seed, and a few of every other configuration object."""

from __future__ import annotations

from decimal import Decimal

from automations.builtins import builtins_install
from automations.models import Journey, Playbook, Rule
from dashboards.models import Goal
from dashboards.services import goal_create
from health import services as health
from health.models import HealthProfile, HealthSnapshot
from messaging.models import EmailTemplate, WebhookEndpoint
from messaging.webhooks import endpoint_create
from tests.factories import AccountFactory, UserFactory
from winback.models import IssueRoute, SurveySchedule
from winback.services import issue_route_set
from winback.services.config import survey_schedule_save


def demo_configuration() -> None:
    """Install what the demo has, enable every rule, and add one of each object the demo leaves empty."""
    builtins_install(enable_rules=True)
    lead = UserFactory(username="lead", role="Manager")
    for n, (health_score, status) in enumerate([(35, "active"), (55, "at_risk"), (82, "active"), (64, "onboarding")]):
        AccountFactory(name=f"Demo {n}", health_score=health_score, status=status, mrr=Decimal(100 * (n + 1)))
    goal_create(actor=None, metric="monthly_churn", comparator="lte", target=Decimal("2.50"), year=2026, quarter=1)
    goal_create(actor=None, metric="nps", comparator="gte", target=Decimal(40), year=2026, quarter=1, segment="smb")
    issue_route_set(issue_type="billing", assignee=lead, role="", sla_days=3, actor=None)
    survey_schedule_save(
        values={
            "key": "smb-entry",
            "name": "On entering SMB",
            "kind": "csat",
            "trigger": "segment_entry",
            "segment": "smb",
        }
    )
    endpoint_create(url="https://crm.example.com/hooks", events=["task.created"], description="CRM")
    profile = health.profile_create(name="SMB", segment="smb", actor=None)
    draft = health.profile_draft_get_or_create(profile=profile, actor=None)
    health.profile_draft_update(
        draft=draft, factors=draft.factors, green_min=75, yellow_min=45, note="SMB bands", actor=None
    )
    health.profile_publish(draft=draft, actor=None)


def delete_configuration() -> None:
    """The empty database: every configuration object gone (facts stay)."""
    for model in (Rule, Playbook, Journey, EmailTemplate, SurveySchedule, Goal, IssueRoute, WebhookEndpoint):
        model.objects.all().delete()
    HealthSnapshot.objects.all().delete()
    HealthProfile.objects.all().delete()
