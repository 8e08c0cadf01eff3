"""schemathesis against the KPI part of /api/schema/, in-process: no server errors, answers as documented."""

from __future__ import annotations

import pytest

from tests.factories import AccountFactory, SubscriptionFactory
from tests.schemathesis_support import api_key_headers, api_schema, call_and_validate, fuzz_settings

schema = api_schema(r"^/api/v1/kpis/")
pytestmark = pytest.mark.usefixtures("wsgi_keeps_test_connection")


@pytest.fixture
def read_key_headers(db):
    SubscriptionFactory(account=AccountFactory(segment="enterprise"))
    return api_key_headers("read")


@schema.parametrize()
@fuzz_settings(8)
@pytest.mark.django_db
def test_kpi_api_conforms_to_its_schema(case, read_key_headers, monkeypatch):
    call_and_validate(case, read_key_headers, monkeypatch)
