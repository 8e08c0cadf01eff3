"""schemathesis against the audit trail's part of /api/schema/, in-process: no server errors, no schema violations,
with entries in place so list, detail and filter examples reach real rows."""

from __future__ import annotations

import pytest

from tests.factories import AccountFactory, ContactFactory
from tests.schemathesis_support import api_key_headers, api_schema, call_and_validate, fuzz_settings

OPERATIONS = r"^/api/v1/audit-entries/"
schema = api_schema(OPERATIONS)


@pytest.fixture
def admin_key_headers(db, wsgi_keeps_test_connection):
    account = AccountFactory(external_id="acc-1", name="Acme")
    ContactFactory(account=account, email="ann@example.com")
    account.plan = "Scale"
    account.save()
    return api_key_headers("admin")


@schema.parametrize()
@fuzz_settings(5)
@pytest.mark.django_db
def test_audit_api_conforms_to_its_schema(case, admin_key_headers, monkeypatch):
    call_and_validate(case, admin_key_headers, monkeypatch)
