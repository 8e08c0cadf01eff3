"""schemathesis against the win-back part of /api/schema/, in-process: no server errors, no schema violations."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from churnapp.apikeys import api_key_create
from churnapp.wsgi import application
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from tests.winback.factories import ChurnRecordFactory


def _schema() -> schemathesis.BaseSchema:
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application
    loaded.location = "/api/schema/"
    return loaded.include(path_regex=r"^/api/v1/winback/")


schema = _schema()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def _wsgi(wsgi_keeps_test_connection):
    pass


@pytest.fixture
def admin_key_headers(db):
    cache.clear()
    account = AccountFactory(external_id="acc-1")
    ContactFactory(account=account, email="ana@acme.example")
    SubscriptionFactory(account=account)
    ChurnRecordFactory()
    _, secret = api_key_create(name="schemathesis", scopes=["admin"])
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is never red by chance
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@pytest.mark.django_db
def test_winback_api_conforms_to_its_schema(case, admin_key_headers, monkeypatch):
    from churnapp.authentication import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": None})
    case.call_and_validate(headers=admin_key_headers, checks=CHECKS)
