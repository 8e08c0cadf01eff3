"""schemathesis against the configuration API (`/api/v1/config/…`, the bundle apart), in-process: no server errors,
no schema violations, with the built-in rules, playbooks and journeys, a goal, an issue route and a webhook endpoint
in place so that detail examples reach real rows."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest

from automations.builtins import builtins_install
from dashboards.models import Goal
from messaging import webhooks
from tests.factories import UserFactory
from tests.schemathesis_support import api_key_headers, api_schema, call_and_validate, fuzz_settings
from winback.models import IssueRoute

OPERATIONS = r"^/api/v1/config/(?!bundle/)"
schema = api_schema(OPERATIONS)
PUBLIC = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))]


@pytest.fixture
def config_key_headers(db, wsgi_keeps_test_connection, monkeypatch):
    builtins_install()
    Goal.objects.create(metric="nps", comparator="gte", target=Decimal(30), year=2026, quarter=1)
    IssueRoute.objects.create(issue_type="billing", role="Manager", sla_days=2)
    UserFactory(username="router", role="Manager")
    webhooks.endpoint_create(key="crm", url="https://93.184.216.34/hook", events=["ping"])
    # Fuzzed URLs are resolved by the webhook URL check: answer every name with a public address, offline.
    monkeypatch.setattr(webhooks.socket, "getaddrinfo", lambda *args, **kwargs: PUBLIC)
    return api_key_headers("config")


@schema.parametrize()
@fuzz_settings(5)
@pytest.mark.django_db
def test_configuration_api_conforms_to_its_schema(case, config_key_headers, monkeypatch):
    call_and_validate(case, config_key_headers, monkeypatch)
