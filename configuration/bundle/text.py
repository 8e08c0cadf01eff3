"""The bundle as text: read YAML or JSON (JSON is YAML), write YAML, and the plan as a readable diff."""

from __future__ import annotations

from typing import Any

import yaml
from django.utils.translation import gettext

from churnapp.validation import nul_paths
from configuration.bundle.base import BundleInvalid
from configuration.bundle.planning import CHANGE, CREATE, DELETE, Plan

MAX_BYTES = 5 * 1024 * 1024


class _Loader(yaml.SafeLoader):
    """Safe YAML without aliases: a few bytes of nested aliases would expand to gigabytes."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise BundleInvalid(gettext("YAML aliases (*name) are not allowed in a bundle; write the value out."))
        return super().compose_node(parent, index)


def parse(text: str | bytes) -> Any:
    """The bundle read from YAML or JSON text; BundleInvalid when it is neither, or holds NUL characters."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise BundleInvalid(gettext("The file is over 5 MB."))
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BundleInvalid(gettext("The file is not UTF-8 text.")) from exc
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise BundleInvalid(gettext("Not valid YAML or JSON: %(error)s") % {"error": exc}) from exc
    paths = nul_paths(data)
    if paths:
        raise BundleInvalid(gettext("%(where)s: NUL characters are not allowed.") % {"where": paths[0]})
    return data


class _Dumper(yaml.SafeDumper):
    """Multi-line texts (email bodies) as literal blocks, readable and diffable."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(bundle: dict) -> str:
    return yaml.dump(bundle, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


SIGNS = {CREATE: "+", CHANGE: "~", DELETE: "-"}


def render(result: Plan, *, applied: bool = False) -> str:
    """The plan as lines: `+ create`, `~ change` with `field: old → new` under it, `- delete`, then a summary."""
    if result.empty:
        return gettext("No changes: the configuration already matches the bundle.") + "\n"
    lines = []
    for entry in result.entries:
        lines.append(f"{SIGNS[entry.action]} {entry.action} {entry.section} {entry.key}")
        lines += [f"    {c.field}: {c.old_text} → {c.new_text}" for c in entry.changes]
    summary = (
        gettext("Applied: %(create)s created, %(change)s changed, %(delete)s deleted.")
        if applied
        else gettext("Plan: %(create)s to create, %(change)s to change, %(delete)s to delete.")
    )
    lines.append(summary % result.counts())
    lines += result.notes
    return "\n".join(lines) + "\n"
