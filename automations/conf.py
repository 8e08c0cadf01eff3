"""Automations settings with working defaults; each can be overridden in Django settings (AUTOMATIONS_<NAME>)."""

from __future__ import annotations

from django.conf import settings

_DEFAULTS: dict[str, object] = {
    # Trigger-rule evaluation cycle, in seconds (beat).
    "RULES_INTERVAL": 300,
    # Phase 2 runs the actions of this many executions of a rule at once, in one transaction.
    "ACTIONS_CHUNK": 500,
    # An onboarding milestone's owner gets a reminder this many days before it is due (0: no reminders).
    "MILESTONE_DUE_SOON_DAYS": 2,
    # Missed milestones older than this get no task (e.g. when owner roles are first configured).
    "MILESTONE_MISSED_TASK_DAYS": 7,
}


def get(name: str):
    return getattr(settings, f"AUTOMATIONS_{name}", _DEFAULTS[name])
