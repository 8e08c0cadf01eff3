"""The shape of the code, checked like behaviour: the dependency rule of CONTRIBUTING.md (import-linter contracts
in pyproject.toml), modules a newcomer can hold in their head, and imports at the top of modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("churnapp", "accounts", "health", "messaging", "automations", "winback", "dashboards", "demo")
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
