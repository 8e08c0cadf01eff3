"""Export the configuration, and plan a bundle against it: what would be created, changed (field by field, old →
new) and deleted (only with prune). Planning reads and never writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from configuration.bundle.base import Kind
from configuration.bundle.checks import check_keys, check_references, check_shape
from configuration.bundle.kinds_automations import EmailTemplates, Journeys, Playbooks, Rules
from configuration.bundle.kinds_more import (
    Goals,
    HealthProfiles,
    IssueRoutes,
    SurveySchedules,
    WebhookEndpoints,
)
from configuration.bundle.schema import VERSION

# In the order they are applied: what is referenced comes before what references it (deletes run backwards).
KINDS: list[Kind] = [
    EmailTemplates(),
    Playbooks(),
    Rules(),
    Journeys(),
    HealthProfiles(),
    SurveySchedules(),
    Goals(),
    IssueRoutes(),
    WebhookEndpoints(),
]
CREATE, CHANGE, DELETE = "create", "change", "delete"


@dataclass
class Change:
    field: str
    old: Any
    new: Any

    def as_dict(self) -> dict:
        return {"field": self.field, "old": self.old, "new": self.new}

    @property
    def old_text(self) -> str:
        return shown(self.old)

    @property
    def new_text(self) -> str:
        return shown(self.new)


def shown(value: Any) -> str:
    """A value as a short line of text: JSON (strings quoted), "—" for none, cut at about 100 characters."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if len(value) <= 80 else json.dumps(value[:77] + "…")
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 100 else text[:99] + "…"


@dataclass
class Entry:
    section: str
    key: str
    action: str
    changes: list[Change] = field(default_factory=list)
    item: dict = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        return {
            "section": self.section,
            "key": self.key,
            "action": self.action,
            "changes": [c.as_dict() for c in self.changes],
        }


@dataclass
class Plan:
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.entries

    def of(self, action: str) -> list[Entry]:
        return [e for e in self.entries if e.action == action]

    def counts(self) -> dict[str, int]:
        return {action: len(self.of(action)) for action in (CREATE, CHANGE, DELETE)}

    def as_dict(self) -> dict:
        return {
            "empty": self.empty,
            "counts": self.counts(),
            "entries": [e.as_dict() for e in self.entries],
            "notes": list(self.notes),
        }


def export_bundle() -> dict:
    """Every configuration object, section by section, each sorted by key."""
    out: dict[str, Any] = {"version": VERSION}
    for kind in KINDS:
        out[kind.section] = list(kind.current().values())
    return out


def diff(old: Any, new: Any, path: str = "") -> list[Change]:
    """The differences between two values, down to the leaves of dicts and equally long lists."""
    if old == new and type(old) is type(new):
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for name in [*old, *(k for k in new if k not in old)]:
            out += diff(old.get(name), new.get(name), f"{path}.{name}" if path else str(name))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [c for n, (a, b) in enumerate(zip(old, new, strict=True)) for c in diff(a, b, f"{path}[{n}]")]
    if old == new and isinstance(old, int | float) and isinstance(new, int | float) and not isinstance(old, bool):
        return []
    return [Change(path, old, new)]


def plan(bundle, *, prune: bool = False) -> Plan:
    """What applying `bundle` would do; BundleInvalid (naming the object and the field) when it cannot apply."""
    check_shape(bundle)
    check_keys(bundle, KINDS)
    currents = {kind.section: kind.current() for kind in KINDS}
    check_references(bundle, existing={s: set(rows) for s, rows in currents.items()}, prune=prune)
    result = Plan()
    for kind in KINDS:
        current = currents[kind.section]
        wanted = {}
        for item in bundle.get(kind.section) or []:
            normal = kind.normalize(item)
            wanted[kind.key_of(normal)] = normal
        for key, item in wanted.items():
            if key not in current:
                result.entries.append(Entry(kind.section, key, CREATE, item=item))
            elif changes := diff(current[key], item):
                result.entries.append(Entry(kind.section, key, CHANGE, changes, item=item))
        if prune and getattr(kind, "prunable", True):
            result.entries += [Entry(kind.section, key, DELETE) for key in current if key not in wanted]
    return result
