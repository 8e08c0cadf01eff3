"""The shape of the code, checked like behaviour: the dependency rule of CONTRIBUTING.md (import-linter contracts
in pyproject.toml), modules a newcomer can hold in their head, and imports at the top of modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "churnapp",
    "audit",
    "accounts",
    "health",
    "messaging",
    "automations",
    "winback",
    "dashboards",
    "privacy",
    "configuration",
    "demo",
)
MAX_LINES = 400


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_the_import_contracts_hold():
    """Layers between apps, churnapp's shared modules free of apps, and no circle of modules inside any app. In its
    own process: the linter configures logging, which would silence the loggers other tests read."""
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]


def test_no_module_is_longer_than_a_newcomer_can_hold_in_their_head():
    long = {str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def _unexplained_function_level_imports(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    found = []
    for fn in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            # The reason is a comment on the import's line or above its block of imports.
            i = node.lineno - 1
            explained = "#" in lines[i]
            while not explained and i > 0 and lines[i - 1].strip().startswith(("from ", "import ", "#")):
                i -= 1
                explained = lines[i].strip().startswith("#")
            if not explained:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return found


@pytest.mark.parametrize("app", APPS)
def test_imports_inside_functions_say_why(app):
    """Imports belong at the top of a module; the few that cannot be there (a cycle, a heavy optional library,
    the app registry) carry a comment saying why."""
    paths = [p for p in _modules() if p.relative_to(ROOT).parts[0] == app]
    assert [line for p in paths for line in _unexplained_function_level_imports(p)] == []


DOOR_NAMES = {"views", "api", "api_urls", "integrations", "webhooks"}
# Outgoing webhooks are messaging's service, not a door.
NOT_DOORS = {ROOT / "messaging" / "webhooks.py"}


def _doors():
    """The modules requests come in through: views, API viewsets, the integrations pages, inbound webhooks."""
    for path in _modules():
        in_door_package = path.parent.name in {"api", "views"} and path.parent.parent.name in APPS
        if (path.stem in DOOR_NAMES or in_door_package) and path not in NOT_DOORS and "management" not in path.parts:
            yield path


def _queries_outside_selectors(path: Path) -> list[str]:
    """`Model.objects…` in a door, except the forms a door may hold: the one object it acts on
    (`get_object_or_404(Model.objects…, pk=…)`), a serializer field's validation set (`queryset=…`) and a
    viewset's model declaration (`queryset = Model.objects.none()` / `.all()`, its list served by a selector)."""
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    allowed: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "get_object_or_404" and node.args:
            allowed.update(ast.walk(node.args[0]))
        if isinstance(node, ast.keyword) and node.arg == "queryset":
            allowed.update(ast.walk(node.value))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr == "objects") or node in allowed:
            continue
        method, call = parents.get(node), parents.get(parents.get(node))
        declaration = (
            isinstance(method, ast.Attribute)
            and method.attr in {"none", "all"}
            and isinstance(call, ast.Call)
            and isinstance(parents.get(call), ast.Assign)
            and isinstance(parents.get(parents.get(call)), ast.ClassDef)
        )
        if not declaration:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_doors_are_found():
    names = {str(p.relative_to(ROOT)) for p in _doors()}
    assert {"accounts/views.py", "accounts/api/resources.py", "accounts/webhooks.py", "winback/api.py"} <= names


def test_views_and_viewsets_read_through_selectors():
    """DESIGN.md: selectors do the reads (and own select_related); a door only picks the object it acts on."""
    found = [where for path in _doors() for where in _queries_outside_selectors(path)]
    assert not found, "queries in views or viewsets (move them into a selector): " + ", ".join(found)
