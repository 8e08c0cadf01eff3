"""The configuration bundle's JSON Schema (draft 2020-12): editors validate a file with it, and so does `plan`.

Served at `GET /api/v1/config/bundle/schema.json`. The schema checks the shape (sections, fields, types); what
only the database knows (a referenced template, a condition's type, a username) is checked when planning.
"""

from __future__ import annotations

from functools import cache

from accounts.models import Segment
from dashboards.models import Comparator, GoalMetric
from messaging.models import WebhookEvent
from winback.models import IssueType, SurveyTrigger

VERSION = 1
SLUG = {"type": "string", "pattern": "^[-a-z0-9_]+$", "minLength": 1, "maxLength": 100}
TEXT = {"type": "string"}
WHOLE = {"type": "integer", "minimum": 0}
OBJECT = {"type": "object"}


def _object(properties: dict, required: list[str], description: str = "") -> dict:
    out = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    if description:
        out["description"] = description
    return out


def _list_of(item: dict) -> dict:
    return {"type": "array", "items": item}


def _sections() -> dict:
    segments = [""] + list(Segment.values)
    return {
        "email_templates": _list_of(
            _object(
                {"key": SLUG, "name": TEXT, "subject": TEXT, "body_text": TEXT, "body_html": TEXT},
                ["key", "name", "subject", "body_text"],
                "A reusable email with {{ variable }} placeholders.",
            )
        ),
        "playbooks": _list_of(
            _object(
                {
                    "key": SLUG,
                    "name": TEXT,
                    "description": TEXT,
                    "trigger": TEXT,
                    "owner_role": TEXT,
                    "metric": TEXT,
                    "enabled": {"type": "boolean"},
                    "holdout_percent": {"type": "integer", "minimum": 0, "maximum": 50},
                    "steps": {
                        "type": "array",
                        "minItems": 1,
                        "items": _object({"kind": TEXT, "config": OBJECT}, ["kind"]),
                    },
                },
                ["key", "name", "steps"],
                "Ordered steps: task; email naming a template by key; wait {days, until?}; branch {condition, then, "
                'else, reason?} where then/else is a step number, "next" or "stop".',
            )
        ),
        "rules": _list_of(
            _object(
                {
                    "key": SLUG,
                    "name": TEXT,
                    "description": TEXT,
                    "enabled": {"type": "boolean"},
                    "cooldown_days": WHOLE,
                    "conditions": OBJECT,
                    "actions": {"type": "array", "minItems": 1, "items": OBJECT},
                },
                ["key", "name", "conditions", "actions"],
                "When <conditions> then <actions>; actions name templates and playbooks by key.",
            )
        ),
        "journeys": _list_of(
            _object(
                {
                    "key": SLUG,
                    "name": TEXT,
                    "description": TEXT,
                    "onboarding": {"type": "boolean"},
                    "segment": {"enum": segments},
                    "milestones": {
                        "type": "array",
                        "minItems": 1,
                        "items": _object(
                            {
                                "key": SLUG,
                                "name": TEXT,
                                "condition": OBJECT,
                                "stage": TEXT,
                                "owner_role": TEXT,
                                "due_days": {"type": ["integer", "null"], "minimum": 0},
                                "first_value": {"type": "boolean"},
                            },
                            ["key", "name", "condition"],
                        ),
                    },
                },
                ["key", "name", "milestones"],
            )
        ),
        "health_profiles": _list_of(
            _object(
                {
                    "segment": {"enum": ["default", *Segment.values]},
                    "name": TEXT,
                    "factors": {"type": "array", "minItems": 1, "items": OBJECT},
                    "green_min": {"type": "integer", "minimum": 0, "maximum": 100},
                    "yellow_min": {"type": "integer", "minimum": 0, "maximum": 100},
                },
                ["segment", "name", "factors"],
                'The published version of a segment\'s profile ("default": every other account).',
            )
        ),
        "survey_schedules": _list_of(
            _object(
                {
                    "key": SLUG,
                    "name": TEXT,
                    "kind": {"enum": ["nps", "csat"]},
                    "trigger": {"enum": list(SurveyTrigger.values)},
                    "offset_days": WHOLE,
                    "segment": {"enum": segments},
                    "sample_rate": {"type": "number", "minimum": 0, "maximum": 1},
                    "expires_after_days": WHOLE,
                    "reminder_after_days": WHOLE,
                    "is_active": {"type": "boolean"},
                },
                ["key", "name", "kind", "trigger"],
            )
        ),
        "goals": _list_of(
            _object(
                {
                    "metric": {"enum": list(GoalMetric.values)},
                    "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
                    "quarter": {"type": "integer", "minimum": 1, "maximum": 4},
                    "segment": {"enum": segments},
                    "comparator": {"enum": list(Comparator.values)},
                    "target": {"type": "number"},
                },
                ["metric", "year", "quarter", "comparator", "target"],
                "Keyed by metric, year, quarter and segment.",
            )
        ),
        "issue_routes": _list_of(
            _object(
                {
                    "issue_type": {"enum": list(IssueType.values)},
                    "assignee": {"type": "string", "description": "A username, or empty."},
                    "role": {"type": "string", "description": "A role (group) name, or empty."},
                    "sla_days": {"type": "integer", "minimum": 1, "maximum": 30},
                },
                ["issue_type"],
            )
        ),
        "webhook_endpoints": _list_of(
            _object(
                {
                    "key": SLUG,
                    "url": {"type": "string", "format": "uri"},
                    "description": TEXT,
                    "events": {"type": "array", "items": {"enum": list(WebhookEvent.values)}},
                    "is_active": {"type": "boolean"},
                },
                ["key", "url", "events"],
                "Secrets are never in the bundle: a new endpoint gets one, printed once.",
            )
        ),
    }


@cache
def bundle_schema() -> dict:
    """The schema, built once from the apps' choices."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "churnapp configuration bundle",
        "description": "Every configuration object of a churnapp instance, keyed by stable slugs; references by key.",
        "type": "object",
        "properties": {"version": {"const": VERSION}, **_sections()},
        "required": ["version"],
        "additionalProperties": False,
    }
