"""schemathesis against the configuration bundle's part of /api/schema/, in-process: no server errors, no schema
violations, with the demo's configuration in place so export, plan and apply reach real objects."""

from __future__ import annotations

import pytest

from tests.configuration.bundle_world import demo_configuration
from tests.schemathesis_support import api_key_headers, api_schema, call_and_validate, fuzz_settings

OPERATIONS = r"^/api/v1/config/bundle/"
schema = api_schema(OPERATIONS)


@pytest.fixture
def config_key_headers(db, wsgi_keeps_test_connection):
    demo_configuration()
    return api_key_headers("config")


@schema.parametrize()
@fuzz_settings(10)
@pytest.mark.django_db
def test_bundle_api_conforms_to_its_schema(case, config_key_headers, monkeypatch):
    call_and_validate(case, config_key_headers, monkeypatch)
