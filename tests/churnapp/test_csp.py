"""Content-Security-Policy: a strict header on every page, and templates it cannot break (no inline script,
handler, eval or style attribute)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
TEMPLATE_DIRS = [ROOT / "templates", *sorted(ROOT.glob("*/templates"))]
TEMPLATES = sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html"))

# A tag's attributes may hold template tags with ">" in them ({% if a > b %}); stop at a ">" outside them.
TAG = re.compile(r"<([a-zA-Z][\w-]*)((?:\{%.*?%\}|\{\{.*?\}\}|[^>])*)>", re.S)
FORBIDDEN_ATTRIBUTES = {
    "inline event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on handler (evaluated)": re.compile(r"\shx-on\b|\shx-on[:-]", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.I),
    "js: expression in hx-vals/hx-vars (evaluated)": re.compile(
        r"""\shx-(?:vals|vars)\s*=\s*["']\s*(?:js:|javascript:)|\shx-vars\s*=""", re.I
    ),
}
HX_TRIGGER = re.compile(r"""\shx-trigger\s*=\s*(["'])(.*?)\1""", re.S)


def _has_event_filter(trigger: str) -> bool:
    """`click[ctrlKey]` or `every 30s [cond]` is a JavaScript expression htmx evaluates; `from:input[type=x]` is
    a CSS selector."""
    for spec in trigger.split(","):
        words = spec.split()
        if not words:
            continue
        head = " ".join(words[:3]) if words[0] == "every" else words[0]
        if "[" in head:
            return True
    return False


def _problems(path: Path, root: Path = ROOT) -> list[str]:
    text = path.read_text()
    found = []
    for match in TAG.finditer(text):
        name, attributes = match.group(1).lower(), match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        if name == "script" and not re.search(r"\ssrc\s*=", attributes):
            if not re.search(r"""type\s*=\s*["']application/(ld\+)?json["']""", attributes):
                found.append(f"{path.relative_to(root)}:{line}: inline <script>")
        if name == "style":
            found.append(f"{path.relative_to(root)}:{line}: inline <style> block")
        for what, pattern in FORBIDDEN_ATTRIBUTES.items():
            if pattern.search(attributes):
                found.append(f"{path.relative_to(root)}:{line}: {what}")
        trigger = HX_TRIGGER.search(attributes)
        if trigger and _has_event_filter(trigger.group(2)):
            found.append(f"{path.relative_to(root)}:{line}: hx-trigger event filter (evaluated)")
    return found


def test_the_scan_sees_every_app_template():
    assert len(TEMPLATES) > 50
    assert {"templates", "accounts", "automations", "dashboards", "health", "winback", "churnapp"} <= {
        d.parent.name if d.name == "templates" and d.parent != ROOT else "templates" for d in TEMPLATE_DIRS
    }


def test_the_scan_catches_what_the_policy_would_block(tmp_path):
    sample = tmp_path / "bad.html"
    sample.write_text(
        '<script>alert(1)</script>\n<button onclick="x()">\n<div style="color:red">\n<a href="javascript:x()">\n'
        '<div hx-on:click="x()">\n<div hx-trigger="every 1s [ok()]">\n<style>p{}</style>\n'
        '<form hx-trigger="input changed from:input[type=search], submit">\n'
        '<script id="d" type="application/json">{}</script>\n<script src="/static/x.js"></script>\n'
    )
    problems = _problems(sample, root=tmp_path)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "inline <script>",
        "inline event handler",
        "style attribute",
        "javascript: URL",
        "hx-on handler (evaluated)",
        "hx-trigger event filter (evaluated)",
        "inline <style> block",
    ]


def test_no_template_has_inline_script_handler_eval_or_style():
    problems = [problem for path in TEMPLATES for problem in _problems(path)]
    assert problems == []


def test_htmx_injects_no_style_and_evaluates_nothing(client, viewer):
    client.force_login(viewer)
    body = client.get("/").content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false, "allowEval": false}'>""" in body
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert ".htmx-indicator" in css


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


@pytest.mark.parametrize(
    "path",
    ["/", "/accounts/", "/account/", "/dashboard/", "/automations/rules/", "/health/profiles/", "/admin/", "/nowhere/"],
)
def test_every_page_carries_the_strict_policy(client, admin_user, path):
    account = AccountFactory(owner=admin_user)
    client.force_login(admin_user)
    response = client.get(path.replace("/account/", f"/accounts/{account.pk}/"))
    assert response.status_code in (200, 404)
    assert _policy(response) == EXPECTED


@pytest.mark.parametrize("path", ["/login/", "/auth/password_reset/", "/healthz/", "/api/v1/accounts/"])
def test_anonymous_pages_and_the_api_carry_it_too(client, path):
    assert _policy(client.get(path)) == EXPECTED


def test_the_login_lockout_page_carries_it(client):
    for _ in range(5):
        response = client.post("/login/", {"username": "ana", "password": "wrong"})
    assert response.status_code == 429
    assert _policy(response) == EXPECTED


def test_api_docs_relax_only_styles(client, viewer):
    client.force_login(viewer)
    swagger = client.get("/api/docs/")
    assert _policy(swagger) == {**EXPECTED, "style-src": "'self' 'unsafe-inline'"}
    assert "<script>" not in swagger.content.decode()  # the start-up script is a separate request
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    # Redoc's bundle loads its logo from a CDN: its address forwards to the Swagger docs, under the global policy.
    redoc = client.get("/api/redoc/")
    assert redoc.status_code == 302 and _policy(redoc) == EXPECTED


def test_no_htmx_trigger_needs_eval():
    """With eval off (the CSP), htmx reads `[...]` in hx-trigger as a filter expression and fails with
    htmx:syntax:error; the account filters' `from:…input[type=search]` did exactly that."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for path in root.glob("**/templates/**/*.html")
        if ".venv" not in path.parts and re.search(r'hx-trigger="[^"]*\[', path.read_text())
    ]
    assert offenders == []
