"""The bundle's sections for automations and messaging texts: email templates, playbooks, rules, journeys."""

from __future__ import annotations

from automations.journeys import journey_save
from automations.models import Journey, Playbook, Rule
from automations.playbooks import playbook_save
from automations.removal import email_template_delete, journey_delete, playbook_delete, rule_delete
from automations.rules import RULE_FIELDS, rule_save
from configuration.bundle.base import Context, Kind
from messaging.email.templates import email_template_save
from messaging.models import EmailTemplate


class EmailTemplates(Kind):
    section = "email_templates"

    fields = ("key", "name", "subject", "body_text", "body_html")
    defaults = {"body_html": ""}

    def current(self) -> dict[str, dict]:
        rows = EmailTemplate.objects.order_by("key").values(*self.fields)
        return {row["key"]: dict(row) for row in rows}

    def save(self, key: str, item: dict, ctx: Context) -> None:
        email_template_save(
            key=key,
            name=item["name"],
            subject=item["subject"],
            body_text=item["body_text"],
            body_html=item["body_html"],
        )

    def delete(self, key: str, ctx: Context) -> None:
        email_template_delete(template=EmailTemplate.objects.get(key=key))


class Playbooks(Kind):
    section = "playbooks"

    fields = ("key", "name", "description", "trigger", "owner_role", "metric", "enabled", "holdout_percent", "steps")
    defaults = {"description": "", "trigger": "", "owner_role": "", "metric": "", "enabled": True, "holdout_percent": 0}

    def current(self) -> dict[str, dict]:
        out = {}
        for playbook in Playbook.objects.order_by("key").prefetch_related("steps"):
            row = {field: getattr(playbook, field) for field in self.fields if field != "steps"}
            row["steps"] = [{"kind": s.kind, "config": s.config} for s in sorted(playbook.steps.all(), key=_order)]
            out[playbook.key] = row
        return out

    def normalize(self, item: dict) -> dict:
        out = super().normalize(item)
        out["steps"] = [{"kind": step.get("kind"), "config": step.get("config") or {}} for step in item["steps"]]
        return out

    def save(self, key: str, item: dict, ctx: Context) -> None:
        playbook_save(
            key=key,
            name=item["name"],
            steps=[(step["kind"], step["config"]) for step in item["steps"]],
            description=item["description"],
            trigger=item["trigger"],
            owner_role=item["owner_role"],
            metric=item["metric"],
            holdout_percent=item["holdout_percent"],
            enabled=item["enabled"],
            playbook=Playbook.objects.filter(key=key).first(),
        )

    def delete(self, key: str, ctx: Context) -> None:
        playbook_delete(playbook=Playbook.objects.get(key=key))


class Rules(Kind):
    section = "rules"

    fields = RULE_FIELDS
    defaults = {"description": "", "enabled": False, "cooldown_days": 7}

    def current(self) -> dict[str, dict]:
        return {rule.key: {f: getattr(rule, f) for f in self.fields} for rule in Rule.objects.order_by("key")}

    def save(self, key: str, item: dict, ctx: Context) -> None:
        rule_save(
            key=key,
            name=item["name"],
            description=item["description"],
            conditions_tree=item["conditions"],
            actions_list=item["actions"],
            cooldown_days=item["cooldown_days"],
            enabled=item["enabled"],
            actor=ctx.actor,
        )

    def delete(self, key: str, ctx: Context) -> None:
        rule_delete(rule=Rule.objects.get(key=key))


MILESTONE_FIELDS = ("key", "name", "condition", "stage", "owner_role", "due_days", "first_value")
MILESTONE_DEFAULTS = {"stage": "", "owner_role": "", "due_days": None, "first_value": False}


class Journeys(Kind):
    section = "journeys"

    fields = ("key", "name", "description", "onboarding", "segment", "milestones")
    defaults = {"description": "", "onboarding": False, "segment": ""}

    def current(self) -> dict[str, dict]:
        out = {}
        for journey in Journey.objects.order_by("key").prefetch_related("milestones"):
            row = {field: getattr(journey, field) for field in self.fields if field != "milestones"}
            row["milestones"] = [
                {field: getattr(m, field) for field in MILESTONE_FIELDS}
                for m in sorted(journey.milestones.all(), key=_order)
            ]
            out[journey.key] = row
        return out

    def normalize(self, item: dict) -> dict:
        out = super().normalize(item)
        out["milestones"] = [
            {field: {**MILESTONE_DEFAULTS, **m}.get(field) for field in MILESTONE_FIELDS} for m in item["milestones"]
        ]
        return out

    def save(self, key: str, item: dict, ctx: Context) -> None:
        journey_save(
            key=key,
            name=item["name"],
            milestones=item["milestones"],
            description=item["description"],
            onboarding=item["onboarding"],
            segment=item["segment"],
            journey=Journey.objects.filter(key=key).first(),
        )

    def delete(self, key: str, ctx: Context) -> None:
        journey_delete(journey=Journey.objects.get(key=key))


def _order(row) -> int:
    return row.order
