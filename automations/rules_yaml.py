"""Rules as YAML: export every rule (or some) and import a file of rules, created or updated by key, all or
nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml
from django.db import transaction

from automations.models import Rule
from automations.rules import RULE_FIELDS, RuleInvalid, rule_save

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def rules_export_yaml(*, rules: list[Rule] | None = None) -> str:
    rules = rules if rules is not None else list(Rule.objects.order_by("key"))
    data = {"rules": [{f: getattr(r, f) for f in RULE_FIELDS} for r in rules]}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@transaction.atomic
def rules_import_yaml(*, text: str, actor: AbstractBaseUser | None = None) -> dict[str, int]:
    """Create or update rules by key from YAML; all or nothing (any invalid rule rejects the file)."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleInvalid(f"Not valid YAML: {exc}") from exc
    items = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RuleInvalid("Expected a top-level 'rules:' list.")
    created = updated = 0
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not item.get("key") or not item.get("name"):
            raise RuleInvalid(f"Rule #{n}: 'key' and 'name' are required.")
        exists = Rule.objects.filter(key=item["key"]).exists()
        try:
            rule_save(
                key=str(item["key"]),
                name=str(item["name"]),
                description=str(item.get("description", "")),
                conditions_tree=item.get("conditions") or {},
                actions_list=item.get("actions") or [],
                cooldown_days=int(item.get("cooldown_days", 7)),
                enabled=bool(item.get("enabled", False)),
                actor=actor,
            )
        except (RuleInvalid, ValueError) as exc:
            raise RuleInvalid(f"Rule #{n} ({item['key']}): {exc}") from exc
        updated += exists
        created += not exists
    return {"created": created, "updated": updated}
