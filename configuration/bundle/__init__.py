"""The configuration bundle: every configuration object as one YAML (or JSON) document, keyed by stable slugs,
references by key, secrets left out. `export_bundle()` reads it, `plan()` says what applying a bundle would do,
`apply()` does it all or nothing, idempotently (issue #20)."""

from configuration.bundle.applying import apply
from configuration.bundle.base import BundleInvalid
from configuration.bundle.planning import KINDS, Plan, export_bundle, plan
from configuration.bundle.schema import bundle_schema
from configuration.bundle.text import dump, parse, render

__all__ = [
    "KINDS",
    "BundleInvalid",
    "Plan",
    "apply",
    "bundle_schema",
    "dump",
    "export_bundle",
    "parse",
    "plan",
    "render",
]
