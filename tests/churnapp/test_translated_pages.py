"""Every page speaks the reader's language: each page of the permission matrix an admin may open is rendered in
English, Italian and Bulgarian, and no text outside data is left in English.

A text node fails in Italian when it reads exactly as on the English page, and in Bulgarian when a Latin word is
left in it. Data (names, emails, subjects… anything stored in the database), numbers, codes in <code>/<pre>/<kbd>,
and the terms kept in every language (acronyms, currency codes, the product's name) are taken out first.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models, transaction

from accounts.views import SECTIONS
from automations.journeys import journeys_refresh
from dashboards.widgets.registry import WIDGETS
from tests.churnapp import permission_matrix as matrix
from tests.churnapp.permission_world import ALLOWED, build_world, client_for, log_in
from winback.services.page_figures import page_facts_refresh

pytestmark = pytest.mark.django_db

LANGUAGES = ("it", "bg")
PRODUCT_APPS = {"accounts", "automations", "dashboards", "health", "messaging", "winback", "churnapp", "auth"}
# Not pages a person reads: the API, the tracking endpoints, webhooks, the Django admin, files.
NOT_PAGES = re.compile(r"^/(api|v1|admin|webhooks|static|media)/|/(csv|export|download)/?$|\.(csv|json|yaml)$")
# Words every language keeps as they are: acronyms, codes, the product's name, and the CS terms the Italian
# glossary keeps in English (Italian CS teams say "churn", "playbook", "health score").
KEPT = {
    *"MRR NRR GRR ARR NPS CSAT CLV CAC CSM CSV API JSON YAML URL HTML SQL ID UTC CSP SSO HTTP HTTPS HMAC".split(),
    *"EUR USD GBP BGN CHF JPY AUC Brier TreeSHAP SHAP churnapp Segment Stripe Zendesk Django OK".split(),
    *"p50 p95 p99 AM PM KPI KPIs ARPA SMB B2B ECE".split(),
}
KEPT_IN_ITALIAN = {
    *"account churn playbook playbooks health score onboarding dashboard email e-mail webhook webhooks".split(),
    *"trial standard team manager admin viewer lift backtest holdout cohort tag tags feedback".split(),
    *"on off ok no login logout password default budget".split(),
}
# Codes and notation that read the same in every language, inside translated sentences (KPI definitions).
NOTATION = ["S(t)", "payment_succeeded", "invoice.paid", "k", "t"]
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "kbd", "samp", "template", "svg", "textarea"}
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*[A-Za-z0-9]|[A-Za-z]")


class _Text(HTMLParser):
    """Visible text nodes and the attributes a person reads, outside code, scripts and elements marked as being in
    another language (`lang`: the names of the languages in the switch) or as never translated (`translate="no"`:
    codes a person types)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._open: list[tuple[str, bool]] = []  # open elements and whether each hides its text
        self._language = None

    @property
    def _hidden(self) -> bool:
        return any(hides for _, hides in self._open)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self._language = attributes.get("lang")
        hides = (
            tag in SKIPPED_ELEMENTS
            or attributes.get("translate") == "no"  # codes a person types (event types, parameter names)
            or attributes.get("lang", self._language) != self._language
        )
        if tag not in VOID_ELEMENTS:
            self._open.append((tag, hides))
        if hides or self._hidden:
            return
        for name in READ_ATTRIBUTES:
            if attributes.get(name):
                self.nodes.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.nodes.append(attributes["value"])

    def handle_endtag(self, tag):
        if any(name == tag for name, _ in self._open):  # elements left open inside it close with it
            while self._open.pop()[0] != tag:
                pass

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.nodes.append(" ".join(data.split()))


def text_nodes(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.nodes


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):  # the values: keys are the names of parameters, part of the interface
        value = list(value.values())
    return [s for item in value for s in _strings(item)] if isinstance(value, (list, tuple)) else []


def stored_strings() -> list[str]:
    """Every text value in the database: what a page shows of it is data, never a string to translate."""
    values: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label not in PRODUCT_APPS:
            continue
        kinds = (models.CharField, models.TextField, models.JSONField)
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, kinds)]
        for row in model.objects.values_list(*fields) if fields else ():
            values.update(v for v in _strings(row) if len(v.strip()) > 1)
    return sorted(values, key=len, reverse=True)


def words_left(node: str, data: list[str], kept: set[str]) -> list[str]:
    for value in data:
        if value in node:
            node = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", node)
    return [w for w in WORD.findall(node) if w not in kept and w.lower() not in kept]


@pytest.fixture(scope="module")
def pages(django_db_setup, django_db_blocker, tmp_path_factory):
    """A simulated book with its derived state and the permission world: (url, {language: text nodes}), data."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("simulate", accounts=12, months=6, seed=5, stdout=out)
        for name, options in (("rebuild_rollups", {}), ("recompute_health", {"backfill_days": 2})):
            call_command(name, stdout=out, **options)
        journeys_refresh()
        call_command("refresh_kpi_facts", stdout=out)
        page_facts_refresh()
        world = build_world()
        log_in(world)
        data = stored_strings() + [u.get_full_name() for u in world.users.values()]
        rendered = []
        visits = []
        for row in matrix.ROWS:
            # Each page as an admin; the pages of the signed-out (login, password reset) as the signed-out.
            actor = next((a for a in ("admin", "anonymous") if row.expect[a] == ALLOWED), None)
            if row.method != "get" or actor is None or NOT_PAGES.search(row.route):
                continue
            url = row.route.format(**world.kwargs(row.route, matrix.PK_OF, matrix.KWARG_VALUES, row.variant))
            visits.append((actor, f"{url}?{matrix.QUERY[row.route]}" if row.route in matrix.QUERY else url))
        # Routes whose parameter picks what is shown: every widget and every Customer 360 section, not one example.
        account = world.kwargs("/accounts/{pk}/", matrix.PK_OF, matrix.KWARG_VALUES)["pk"]
        visits += [("admin", f"/dashboard/widgets/{widget}/") for widget in WIDGETS]
        visits += [("admin", f"/accounts/{account}/section/{section}/") for section in SECTIONS]
        # The error pages a person meets: an address that does not exist, a page their role may not open.
        visits += [("admin", "/accounts/999999/"), ("viewer", "/automations/rules/new/")]
        for actor, url in visits:
            by_language = {}
            for language in ("en", *LANGUAGES):
                response = client_for(world, actor).get(url, HTTP_ACCEPT_LANGUAGE=language)
                if response.status_code not in (200, 400, 403, 404) or "html" not in response.get("Content-Type", ""):
                    break
                by_language[language] = text_nodes(response.content.decode())
            else:
                rendered.append((url, by_language))
        yield rendered, NOTATION + [d for d in data if d]  # notation first: a stored word may sit inside it
        transaction.set_rollback(True)


def test_the_walk_covers_the_product(pages):
    rendered, _ = pages
    paths = {url.split("?")[0] for url, _ in rendered}
    assert len(paths) > 55, sorted(paths)
    assert {"/", "/accounts/", "/dashboard/", "/automations/playbooks/", "/winback/", "/auth/login/"} <= paths
    assert {"/accounts/999999/", "/automations/rules/new/"} <= paths


def test_no_english_left_in_italian(pages):
    rendered, data = pages
    untranslated = set()
    for url, by_language in rendered:
        english = set(by_language["en"])
        for node in by_language["it"]:
            if node in english and words_left(node, data, KEPT | KEPT_IN_ITALIAN):
                untranslated.add((url.split("?")[0], node))
    if untranslated:
        pytest.fail("\n".join(f"{url}: {node!r}" for url, node in sorted(untranslated)), pytrace=False)


def test_no_latin_words_left_in_bulgarian(pages):
    rendered, data = pages
    untranslated = set()
    for url, by_language in rendered:
        for node in by_language["bg"]:
            if words_left(node, data, KEPT):
                untranslated.add((url.split("?")[0], node))
    if untranslated:
        pytest.fail("\n".join(f"{url}: {node!r}" for url, node in sorted(untranslated)), pytrace=False)
