"""The bundle's other sections: health profiles, survey schedules, goals, issue routes, outgoing webhooks.

Health profiles are exported with their published version's factors and bands (a draft is work in progress, not
configuration that runs); applying a change saves it as the profile's draft and publishes it. They are never
pruned: scores point at their versions.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from configuration.bundle.base import BundleInvalid, Context, Kind
from dashboards.models import Goal
from dashboards.services import goal_create, goal_delete
from health.models import HealthProfile, VersionStatus
from health.services import profile_create, profile_draft_get_or_create, profile_draft_update, profile_publish
from messaging import webhooks
from messaging.models import WebhookEndpoint
from winback.models import IssueRoute, SurveySchedule
from winback.services import issue_route_set
from winback.services.config import (
    SCHEDULE_FIELDS,
    issue_route_delete,
    survey_schedule_delete,
    survey_schedule_save,
)

DEFAULT_SEGMENT = "default"


class HealthProfiles(Kind):
    section = "health_profiles"

    fields = ("segment", "name", "factors", "green_min", "yellow_min")
    defaults = {"green_min": 70, "yellow_min": 40}
    prunable = False

    def key_of(self, item: dict) -> str:
        return str(item["segment"])

    def current(self) -> dict[str, dict]:
        out = {}
        for profile in HealthProfile.objects.order_by("segment").prefetch_related("versions"):
            published = next((v for v in profile.versions.all() if v.status == VersionStatus.PUBLISHED), None)
            if published is None:
                continue
            segment = profile.segment or DEFAULT_SEGMENT
            out[segment] = {
                "segment": segment,
                "name": profile.name,
                "factors": published.factors,
                "green_min": published.green_min,
                "yellow_min": published.yellow_min,
            }
        return out

    def save(self, key: str, item: dict, ctx: Context) -> None:
        segment = "" if key == DEFAULT_SEGMENT else key
        profile = HealthProfile.objects.filter(segment=segment).first()
        if profile is None:
            profile = profile_create(name=item["name"], segment=segment, actor=ctx.actor)
        elif profile.name != item["name"]:
            profile.name = item["name"]
            profile.full_clean()
            profile.save(update_fields=["name"])
        published = profile.versions.filter(status=VersionStatus.PUBLISHED).first()
        bands = (item["factors"], item["green_min"], item["yellow_min"])
        if published is not None and (published.factors, published.green_min, published.yellow_min) == bands:
            return
        draft = profile_draft_get_or_create(profile=profile, actor=ctx.actor)
        draft = profile_draft_update(
            draft=draft,
            factors=item["factors"],
            green_min=item["green_min"],
            yellow_min=item["yellow_min"],
            note=draft.note,
            actor=ctx.actor,
        )
        profile_publish(draft=draft, actor=ctx.actor)

    def delete(self, key: str, ctx: Context) -> None:
        raise BundleInvalid(gettext("Health profiles are never deleted by a bundle: scores point at their versions."))


class SurveySchedules(Kind):
    section = "survey_schedules"

    fields = SCHEDULE_FIELDS
    defaults = {
        "offset_days": 0,
        "segment": "",
        "sample_rate": 1.0,
        "expires_after_days": 14,
        "reminder_after_days": 3,
        "is_active": True,
    }

    def current(self) -> dict[str, dict]:
        rows = SurveySchedule.objects.order_by("key").values(*self.fields)
        return {row["key"]: dict(row) for row in rows}

    def normalize(self, item: dict) -> dict:
        out = super().normalize(item)
        if isinstance(out.get("sample_rate"), int | float) and not isinstance(out["sample_rate"], bool):
            out["sample_rate"] = float(out["sample_rate"])
        return out

    def save(self, key: str, item: dict, ctx: Context) -> None:
        schedule = SurveySchedule.objects.filter(key=key).first()
        survey_schedule_save(values=item, schedule=schedule, actor=ctx.actor)

    def delete(self, key: str, ctx: Context) -> None:
        survey_schedule_delete(schedule=SurveySchedule.objects.get(key=key), actor=ctx.actor)


def goal_key(metric: str, year: int, quarter: int, segment: str) -> str:
    return f"{metric}-{year}-q{quarter}" + (f"-{segment}" if segment else "")


def _target(value) -> float | int:
    number = Decimal(str(value)).quantize(Decimal("0.01"))
    return int(number) if number == number.to_integral_value() else float(number)


class Goals(Kind):
    section = "goals"

    fields = ("metric", "year", "quarter", "segment", "comparator", "target")
    defaults = {"segment": ""}

    def key_of(self, item: dict) -> str:
        return goal_key(item["metric"], item["year"], item["quarter"], item.get("segment") or "")

    def current(self) -> dict[str, dict]:
        out = {}
        for goal in Goal.objects.order_by("year", "quarter", "metric", "segment"):
            row = {field: getattr(goal, field) for field in self.fields}
            row["target"] = _target(goal.target)
            out[self.key_of(row)] = row
        return out

    def normalize(self, item: dict) -> dict:
        out = super().normalize(item)
        if isinstance(out.get("target"), int | float) and not isinstance(out["target"], bool):
            out["target"] = _target(out["target"])
        return out

    def save(self, key: str, item: dict, ctx: Context) -> None:
        goal = Goal(**{field: item[field] for field in self.fields})
        try:
            goal.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            raise BundleInvalid("; ".join(f"{f}: {', '.join(m)}" for f, m in exc.message_dict.items())) from exc
        goal_create(
            actor=ctx.actor,
            metric=item["metric"],
            comparator=item["comparator"],
            target=Decimal(str(item["target"])),
            year=item["year"],
            quarter=item["quarter"],
            segment=item["segment"],
        )

    def delete(self, key: str, ctx: Context) -> None:
        for goal in Goal.objects.all():
            if goal_key(goal.metric, goal.year, goal.quarter, goal.segment) == key:
                goal_delete(actor=ctx.actor, goal=goal)


class IssueRoutes(Kind):
    section = "issue_routes"

    fields = ("issue_type", "assignee", "role", "sla_days")
    defaults = {"assignee": "", "role": "", "sla_days": 2}

    def key_of(self, item: dict) -> str:
        return str(item["issue_type"])

    def current(self) -> dict[str, dict]:
        return {
            route.issue_type: {
                "issue_type": route.issue_type,
                "assignee": route.assignee.get_username() if route.assignee else "",
                "role": route.role,
                "sla_days": route.sla_days,
            }
            for route in IssueRoute.objects.select_related("assignee").order_by("issue_type")
        }

    def save(self, key: str, item: dict, ctx: Context) -> None:
        assignee = None
        if item["assignee"]:
            assignee = get_user_model().objects.filter(username=item["assignee"]).first()
            if assignee is None:
                raise BundleInvalid(gettext("assignee: no user %(name)r.") % {"name": item["assignee"]})
        issue_route_set(
            issue_type=key, assignee=assignee, role=item["role"], sla_days=item["sla_days"], actor=ctx.actor
        )

    def delete(self, key: str, ctx: Context) -> None:
        issue_route_delete(route=IssueRoute.objects.get(issue_type=key), actor=ctx.actor)


class WebhookEndpoints(Kind):
    section = "webhook_endpoints"

    fields = ("key", "url", "description", "events", "is_active")
    defaults = {"description": "", "is_active": True}

    def current(self) -> dict[str, dict]:
        rows = WebhookEndpoint.objects.order_by("key").values(*self.fields)
        return {row["key"]: {**row, "events": sorted(row["events"])} for row in rows}

    def normalize(self, item: dict) -> dict:
        out = super().normalize(item)
        if isinstance(out.get("events"), list) and all(isinstance(e, str) for e in out["events"]):
            out["events"] = sorted(set(out["events"]))
        return out

    def save(self, key: str, item: dict, ctx: Context) -> None:
        endpoint = WebhookEndpoint.objects.filter(key=key).first()
        values = {"key": key, "url": item["url"], "events": item["events"], "description": item["description"]}
        candidate = WebhookEndpoint(**values, secret=endpoint.secret if endpoint else "new")
        candidate.full_clean(exclude=["secret"], validate_unique=False)
        if endpoint is None:
            endpoint = webhooks.endpoint_create(**values, created_by=ctx.actor)
            ctx.note(
                gettext("Webhook endpoint %(key)s: signing secret %(secret)s (shown once).")
                % {"key": key, "secret": endpoint.secret}
            )
        elif (endpoint.url, sorted(endpoint.events), endpoint.description) != (
            item["url"],
            item["events"],
            item["description"],
        ):
            endpoint = webhooks.endpoint_update(endpoint=endpoint, **values)
        if item["is_active"] and not endpoint.is_active:
            webhooks.endpoint_enable(endpoint=endpoint)
        elif not item["is_active"] and endpoint.is_active:
            webhooks.endpoint_disable(endpoint=endpoint, reason=gettext("Disabled by the configuration bundle."))

    def delete(self, key: str, ctx: Context) -> None:
        webhooks.endpoint_delete(endpoint=WebhookEndpoint.objects.get(key=key))
