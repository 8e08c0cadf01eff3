"""`demo` is the top layer: it may import every app, and no app imports it (commands call it by name)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_app_imports_demo():
    root = Path(settings.BASE_DIR)
    apps = [name for name in settings.INSTALLED_APPS if name != "demo" and (root / name).is_dir()]
    assert {"accounts", "health", "dashboards"} <= set(apps)
    offenders = [
        f"{path.relative_to(root)}: {module}"
        for app in apps
        for path in sorted((root / app).rglob("*.py"))
        for module in _imported_modules(path)
        if module == "demo" or module.startswith("demo.")
    ]
    assert not offenders
