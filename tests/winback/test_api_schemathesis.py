"""schemathesis against the win-back part of /api/schema/, in-process: no server errors, no schema violations."""

from __future__ import annotations

import pytest

from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from tests.schemathesis_support import api_key_headers, api_schema, call_and_validate, fuzz_settings
from tests.winback.factories import ChurnRecordFactory

schema = api_schema(r"^/api/v1/winback/")
pytestmark = pytest.mark.usefixtures("wsgi_keeps_test_connection")


@pytest.fixture
def admin_key_headers(db):
    account = AccountFactory(external_id="acc-1")
    ContactFactory(account=account, email="ana@acme.example")
    SubscriptionFactory(account=account)
    ChurnRecordFactory()
    return api_key_headers("admin")


@schema.parametrize()
@fuzz_settings(5)
@pytest.mark.django_db
def test_winback_api_conforms_to_its_schema(case, admin_key_headers, monkeypatch):
    call_and_validate(case, admin_key_headers, monkeypatch)
