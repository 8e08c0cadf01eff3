"""schemathesis against the KPI part of /api/schema/, in-process: no server errors, answers as documented."""

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
from tests.factories import AccountFactory, SubscriptionFactory


def _schema() -> schemathesis.BaseSchema:
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application
    loaded.location = "/api/schema/"
    return loaded.include(path_regex=r"^/api/v1/kpis/")


schema = _schema()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The raw WSGI app closes DB connections at request end; on PostgreSQL that would end the test's transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def read_key_headers(db):
    cache.clear()
    SubscriptionFactory(account=AccountFactory(segment="enterprise"))
    _, secret = api_key_create(name="schemathesis", scopes=["read"])
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@pytest.mark.django_db
def test_kpi_api_conforms_to_its_schema(case, read_key_headers, monkeypatch):
    from churnapp.authentication import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": None})
    case.call_and_validate(headers=read_key_headers, checks=CHECKS)
