"""The privacy app keeps the project's shape rules (tests/churnapp/test_architecture.py checks the other apps):
modules under 400 lines, imports inside functions explained, doors that read only through selectors."""

from __future__ import annotations

from tests.churnapp.test_architecture import (
    MAX_LINES,
    ROOT,
    _queries_outside_selectors,
    _unexplained_function_level_imports,
)

MODULES = [p for p in sorted((ROOT / "privacy").rglob("*.py")) if "migrations" not in p.parts]
DOORS = [p for p in MODULES if p.stem in {"views", "api", "api_urls"}]


def test_no_module_is_longer_than_the_limit():
    assert {str(p.relative_to(ROOT)): n for p in MODULES if (n := len(p.read_text().splitlines())) > MAX_LINES} == {}


def test_imports_inside_functions_say_why():
    assert [line for p in MODULES for line in _unexplained_function_level_imports(p)] == []


def test_views_and_the_api_read_through_selectors():
    assert {p.stem for p in DOORS} == {"views", "api", "api_urls"}
    assert [where for p in DOORS for where in _queries_outside_selectors(p)] == []
