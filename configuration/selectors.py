"""What the configuration API lists: every configuration object in a stable order, and whether a key is taken."""

from __future__ import annotations

from django.db.models import Model, QuerySet

from automations.models import Journey, Playbook, Rule
from dashboards.models import Goal
from messaging.models import EmailTemplate, WebhookEndpoint
from winback.models import IssueRoute, SurveySchedule


def rules() -> QuerySet[Rule]:
    return Rule.objects.order_by("name", "pk")


def playbooks() -> QuerySet[Playbook]:
    return Playbook.objects.prefetch_related("steps").order_by("name", "pk")


def journeys() -> QuerySet[Journey]:
    return Journey.objects.prefetch_related("milestones").order_by("name", "pk")


def email_templates() -> QuerySet[EmailTemplate]:
    return EmailTemplate.objects.order_by("name", "pk")


def webhook_endpoints() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("key", "pk")


def survey_schedules() -> QuerySet[SurveySchedule]:
    return SurveySchedule.objects.order_by("name", "pk")


def goals() -> QuerySet[Goal]:
    return Goal.objects.order_by("-year", "-quarter", "metric", "segment", "pk")


def issue_routes() -> QuerySet[IssueRoute]:
    return IssueRoute.objects.select_related("assignee").order_by("issue_type")


def key_taken(model: type[Model], key: str, *, instance: Model | None = None) -> bool:
    """Whether another object of `model` than `instance` has the key."""
    return model.objects.filter(key=key).exclude(pk=getattr(instance, "pk", None)).exists()
