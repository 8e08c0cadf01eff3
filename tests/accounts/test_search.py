"""Search across everything: the top bar's results, the search page and the API, on both databases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from churnapp.apikeys import api_key_create
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    SupportTicketFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(csm):
    globex = AccountFactory(name="Globex Newsletters", domain="globex.example", external_id="acc-globex", owner=csm)
    acme = AccountFactory(name="Acme Mail", domain="acme.example", owner=csm)
    return {
        "globex": globex,
        "acme": acme,
        "contact": ContactFactory(account=acme, name="Priya Raman", email="priya.raman@acme.example"),
        "ticket": SupportTicketFactory(account=globex, subject="Invoices export times out"),
        "note": ActivityFactory(account=globex, subject="QBR prep", body="Champion leaving in March"),
        "task": TaskFactory(account=acme, title="Book the renewal call"),
        "audit": ActivityFactory(account=acme, kind="change", subject="Attribute zanzibar changed"),
    }


def _search(client, q: str) -> dict[str, list[str]]:
    response = client.get(reverse("api:search"), {"q": q})
    assert response.status_code == 200, response.content
    return {g["key"]: [r["title"] for r in g["results"]] for g in response.json()}


class TestWhatIsFound:
    def test_a_contact_by_part_of_their_email(self, client, csm, world):
        client.force_login(csm)
        # (On PostgreSQL her company may show too: "acme" is close to "Acme Mail".)
        assert _search(client, "raman@acme")["contacts"] == ["Priya Raman"]
        assert _search(client, "priya.ram")["contacts"] == ["Priya Raman"]

    def test_each_kind_by_its_own_fields(self, client, csm, world):
        client.force_login(csm)
        assert _search(client, "globex.example") == {"accounts": ["Globex Newsletters"]}
        assert _search(client, "acc-globex") == {"accounts": ["Globex Newsletters"]}
        assert _search(client, "invoices export") == {"tickets": ["Invoices export times out"]}
        assert _search(client, "champion leaving") == {"notes": ["QBR prep"]}
        assert _search(client, "renewal call") == {"tasks": ["Book the renewal call"]}

    def test_audit_entries_are_not_notes(self, client, csm, world):
        client.force_login(csm)
        assert _search(client, "zanzibar") == {}

    def test_a_misspelled_account_name_on_postgresql(self, client, csm, world):
        client.force_login(csm)
        found = _search(client, "Globx Newsleters")
        if connection.vendor == "postgresql":
            assert found["accounts"][0] == "Globex Newsletters"
        else:  # SQLite searches by substring: the simpler path has no typo tolerance
            assert "accounts" not in found

    def test_an_exact_prefix_ranks_first(self, client, csm):
        AccountFactory(name="Northwind Acme Traders")
        AccountFactory(name="Acme Corp")
        client.force_login(csm)
        assert _search(client, "acme")["accounts"][0] == "Acme Corp"


class TestBadInput:
    @pytest.mark.parametrize("q", ["", "a", "ab", "   "])
    def test_the_api_asks_for_three_characters(self, client, csm, q):
        client.force_login(csm)
        response = client.get(reverse("api:search"), {"q": q})
        assert response.status_code == 400 and "q" in response.json()

    @pytest.mark.parametrize(
        "q", ["%", "_", "'; drop table accounts_account; --", "\\", "%%__", "x" * 500, "ünïcødé ✓", "ac\x00me"]
    )
    def test_wildcards_quotes_and_long_queries_are_plain_text(self, client, csm, world, q):
        client.force_login(csm)
        page = client.get(reverse("search"), {"q": q})
        assert page.status_code == 200
        if q in ("%", "_", "%%__"):
            assert "Nothing matches" in page.content.decode() or "Type at least" in page.content.decode()

    def test_unknown_kind_and_bad_limit_are_field_errors(self, client, csm):
        client.force_login(csm)
        response = client.get(reverse("api:search"), {"q": "acme", "kind": "planets", "limit": "0"})
        assert response.status_code == 400
        assert set(response.json()) == {"kind", "limit"}


class TestDoors:
    def test_the_top_bar_answers_as_you_type_with_results_grouped_by_kind(self, client, csm, world):
        client.force_login(csm)
        home = client.get(reverse("home")).content.decode()
        assert 'id="global-search"' in home
        partial = client.get(reverse("search"), {"q": "acme"}, HTTP_HX_REQUEST="true").content.decode()
        assert "<h2" in partial and "Accounts" in partial and "Contacts" in partial
        assert reverse("account-detail", args=[world["acme"].pk]) in partial
        assert "All results for" in partial and "<html" not in partial

    def test_the_search_page_and_its_empty_state(self, client, csm, world):
        client.force_login(csm)
        page = client.get(reverse("search"), {"q": "Book the"}).content.decode()
        assert "Book the renewal call" in page
        assert "Nothing matches “zzzqqq”." in client.get(reverse("search"), {"q": "zzzqqq"}).content.decode()

    def test_an_api_key_with_the_read_scope_searches(self, client, world):
        _, secret = api_key_create(name="crm", scopes=["read"])
        response = client.get(
            reverse("api:search"), {"q": "acme", "kind": "accounts"}, HTTP_AUTHORIZATION=f"Bearer {secret}"
        )
        assert response.status_code == 200
        assert [g["key"] for g in response.json()] == ["accounts"]

    def test_anonymous_is_refused(self, client):
        assert client.get(reverse("api:search"), {"q": "acme"}).status_code == 401
        assert client.get(reverse("search"), {"q": "acme"}).status_code == 302
