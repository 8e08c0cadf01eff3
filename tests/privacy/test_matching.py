"""How a subject is recognised: whole emails, whole-word names, ids only as exact JSON values — the same way in
the database (PostgreSQL `~*`, SQLite REGEXP) and in Python (import files)."""

from __future__ import annotations

import json
import re

import pytest

from accounts.models import Activity, InboundWebhookEvent
from messaging.models import Suppression
from privacy.matching import Identity, equals_any, mentions, reference_patterns
from tests.factories import AccountFactory

PERSON = Identity.of(emails=["ann@acme.io"], names=["Zoë O'Brien", "Al"], ids=["u-17", "crm-9"])


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Write to ann@acme.io today", True),
        ("ANN@ACME.IO.", True),
        ("<ann@acme.io>", True),
        ("joann@acme.io", False),
        ("ann@acme.io.au", False),
        ("mary.ann@acme.io", False),
        ("Met Zoë O'Brien.", True),
        ("met zoë o'brien", True),
        ("Zoë O'Briens", False),
        ("Also", False),  # a name under four characters is not searched in free text
        ("user u-17 logged in", False),  # ids are not searched in free text
    ],
)
def test_free_text(text, found):
    assert PERSON.matches_text(text) is found


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ({"user": "u-17"}, True),
        ({"user": "u-170"}, False),
        ({"who": "Al"}, True),
        ({"note": "Al said"}, False),
        ({"note": "mail ann@acme.io"}, True),
        ({"nested": [{"name": "Zoë O'Brien"}]}, True),
    ],
)
def test_json_in_both_spellings(value, found):
    assert PERSON.matches_json(json.dumps(value)) is found
    assert PERSON.matches_json(json.dumps(value, ensure_ascii=False)) is found


def test_csv_cells():
    assert PERSON.matches_cells(["acc-1", "u-17", ""])
    assert PERSON.matches_cells(["acc-1", "al"])
    assert not PERSON.matches_cells(["acc-1", "u-170", "Alan"])


@pytest.mark.django_db
def test_the_database_finds_the_same_rows():
    account = AccountFactory()
    mentioned = [
        Activity.objects.create(account=account, body="Called Zoë O'Brien"),
        Activity.objects.create(account=account, body="cc ANN@acme.io"),
    ]
    Activity.objects.create(account=account, body="Zoë O'Briens and joann@acme.io")
    found = Activity.objects.filter(mentions("body", identity=PERSON))
    assert sorted(found.values_list("pk", flat=True)) == [a.pk for a in mentioned]
    hooks = [
        InboundWebhookEvent.objects.create(source="s", event_id=str(i), type="t", status="processed", payload=p)
        for i, p in enumerate([{"user": "u-17"}, {"user": "u-170"}, {"name": "Zoë O'Brien"}, {"who": "Al"}])
    ]
    found = InboundWebhookEvent.objects.filter(mentions(identity=PERSON, json_fields=("payload",)))
    assert sorted(found.values_list("pk", flat=True)) == [hooks[0].pk, hooks[2].pk, hooks[3].pk]


@pytest.mark.django_db
def test_equality_ignores_case_for_emails_only():
    row = Suppression.objects.create(email="ann@acme.io")
    Suppression.objects.filter(pk=row.pk).update(email="Ann@Acme.io")  # as an older list may hold it
    assert Suppression.objects.filter(equals_any("email", ["ann@acme.io"], case_sensitive=False)).count() == 1
    assert Suppression.objects.filter(equals_any("email", ["ann@acme.io"])).count() == 0
    assert Suppression.objects.filter(equals_any("email", [])).count() == 0


def test_an_empty_identity_matches_nothing():
    nobody = Identity.of(emails=[""], names=["  "])
    assert nobody.is_empty and not nobody.matches_json('{"a": ""}') and nobody.json_patterns() == []


def test_a_reference_to_the_account_is_its_external_id_or_its_id_as_account_id():
    patterns = reference_patterns(pk=5, external_id="acc-5")

    def refers_to(value) -> bool:
        return any(re.search(p, json.dumps(value), re.IGNORECASE) for p in patterns)

    assert refers_to({"account_id": 5}) and refers_to({"account": "acc-5"}) and refers_to({"account": 5})
    assert not refers_to({"account_id": 51}) and not refers_to({"account": "acc-51"}) and not refers_to({"id": 5})
