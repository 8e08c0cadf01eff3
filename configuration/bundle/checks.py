"""Checking a bundle before anything is planned: its shape (the JSON Schema), unique keys per section, and the
references between objects (templates and playbooks by key, users by username, roles by name)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext
from jsonschema import Draft202012Validator

from configuration.bundle.base import BundleInvalid, Kind
from configuration.bundle.schema import bundle_schema


def _where(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or gettext("the bundle")


def check_shape(bundle) -> None:
    """The first error against the schema, naming the section, the object's position and the field."""
    if not isinstance(bundle, dict):
        raise BundleInvalid(
            gettext("The bundle is a mapping with a `version` and one list per section (e.g. `rules:`).")
        )
    validator = Draft202012Validator(bundle_schema())
    # Unknown fields first (a misspelt field also reads as a missing one), then in the file's order.
    errors = sorted(
        validator.iter_errors(bundle),
        key=lambda e: (e.validator != "additionalProperties", [str(p) for p in e.absolute_path], e.message),
    )
    if errors:
        error = errors[0]
        raise BundleInvalid(f"{_where(error.absolute_path)}: {error.message}")


def check_keys(bundle: dict, kinds: list[Kind]) -> None:
    for kind in kinds:
        seen: set[str] = set()
        for n, item in enumerate(bundle.get(kind.section) or []):
            key = kind.key_of(item)
            if key in seen:
                where = f"{kind.section}[{n}] ({key})"
                raise BundleInvalid(gettext("%(where)s: the key is used twice.") % {"where": where})
            seen.add(key)


def _among(value, keys: set[str]) -> bool:
    return isinstance(value, str) and value in keys


def _no_template(where: str, key) -> str:
    return gettext("%(where)s: no email template %(key)r.") % {"where": where, "key": key}


def _people(spec: str | None, where: str, users: set[str], roles: set[str]) -> None:
    spec = str(spec or "")
    if spec.startswith("user:") and spec[5:] not in users:
        raise BundleInvalid(gettext("%(where)s: no user %(name)r.") % {"where": where, "name": spec[5:]})
    if spec.startswith("role:") and spec[5:] not in roles:
        raise BundleInvalid(gettext("%(where)s: no role %(name)r.") % {"where": where, "name": spec[5:]})


def check_references(bundle: dict, *, existing: dict[str, set[str]], prune: bool) -> None:
    """Every template, playbook, user and role a rule, playbook or route names exists: in the bundle, or in the
    database when it stays there (no prune)."""

    def known(section: str) -> set[str]:
        keys = {str(item["key"]) for item in bundle.get(section) or []}
        return keys if prune else keys | existing.get(section, set())

    templates, playbooks = known("email_templates"), known("playbooks")
    users = set(get_user_model().objects.filter(is_active=True).values_list("username", flat=True))
    roles = set(Group.objects.values_list("name", flat=True))
    for item in bundle.get("rules") or []:
        for n, action in enumerate(item["actions"]):
            where = f"rules ({item['key']}): actions[{n}]"
            if action.get("type") == "send_email" and not _among(action.get("template"), templates):
                raise BundleInvalid(_no_template(f"{where}.template", action.get("template")))
            if action.get("type") == "enrol_playbook" and not _among(action.get("playbook"), playbooks):
                raise BundleInvalid(
                    gettext("%(where)s: no playbook %(key)r.")
                    % {"where": f"{where}.playbook", "key": action.get("playbook")}
                )
            _people(action.get("assignee"), f"{where}.assignee", users, roles)
            _people(action.get("to"), f"{where}.to", users, roles)
    for item in bundle.get("playbooks") or []:
        for n, step in enumerate(item["steps"]):
            where, config = f"playbooks ({item['key']}): steps[{n}].config", step.get("config") or {}
            if step.get("kind") == "email" and not _among(config.get("template"), templates):
                raise BundleInvalid(_no_template(f"{where}.template", config.get("template")))
            _people(config.get("assignee"), f"{where}.assignee", users, roles)
    for item in bundle.get("issue_routes") or []:
        where = f"issue_routes ({item['issue_type']})"
        if item.get("assignee") and item["assignee"] not in users:
            raise BundleInvalid(
                gettext("%(where)s: no user %(name)r.") % {"where": f"{where}.assignee", "name": item["assignee"]}
            )
        if item.get("role") and item["role"] not in roles:
            raise BundleInvalid(
                gettext("%(where)s: no role %(name)r.") % {"where": f"{where}.role", "name": item["role"]}
            )
