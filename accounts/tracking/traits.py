"""How Segment traits map to our fields: account traits of `group` calls, contact traits of `identify` calls."""

from __future__ import annotations

from typing import Any

from accounts.models import Segment

ACCOUNT_TRAITS = {"name": "name", "plan": "plan", "domain": "domain", "website": "domain", "tier": "tier"}
CONTACT_TRAITS = {"email", "name", "title", "firstName", "lastName", "first_name", "last_name"}


def split_account_traits(traits: dict) -> dict:
    row: dict[str, Any] = {}
    custom = {}
    for key, value in traits.items():
        if key in ACCOUNT_TRAITS and isinstance(value, str):
            row[ACCOUNT_TRAITS[key]] = value
        elif key == "segment" and value in Segment.values:
            row["segment"] = value
        elif key not in ("id", "groupId"):
            custom[key] = value
    if custom:
        row["custom_attributes"] = custom
    return row


def contact_name_of(traits: dict) -> str:
    name = traits.get("name")
    if isinstance(name, str):
        return name
    first = traits.get("firstName") or traits.get("first_name") or ""
    last = traits.get("lastName") or traits.get("last_name") or ""
    return f"{first} {last}".strip() if isinstance(first, str) and isinstance(last, str) else ""


def contact_fields_of(traits: dict) -> tuple[dict, dict]:
    fields: dict[str, str] = {}
    email = traits.get("email")
    if isinstance(email, str) and "@" in email and len(email) <= 254:
        fields["email"] = email.strip()
    name = contact_name_of(traits)
    if name:
        fields["name"] = name
    if isinstance(traits.get("title"), str):
        fields["title"] = traits["title"]
    extra = {k: v for k, v in traits.items() if k not in CONTACT_TRAITS}
    return fields, extra
