"""schemathesis against the health part of /api/schema/, in-process: no server errors, no schema violations.

Covers health snapshots, health profile versions, churn models (list, retrieve, current, train) and churn
predictions, with data in place so that list, detail and filter examples reach real rows.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import schemathesis
from django.core.cache import cache
from django.utils import timezone
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
from health import services
from health.models import ChurnModelVersion, ChurnPrediction
from tests.factories import AccountFactory, SubscriptionFactory

OPERATIONS = r"^/api/v1/(health-snapshots|health-profile-versions|churn-models|churn-predictions)/"


def _schema() -> schemathesis.BaseSchema:
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application
    loaded.location = "/api/schema/"
    return loaded.include(path_regex=OPERATIONS)


schema = _schema()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def _wsgi(wsgi_keeps_test_connection):
    pass


@pytest.fixture
def admin_key_headers(db):
    cache.clear()
    account = AccountFactory(external_id="acc-1")
    SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1))
    services.health_recompute()
    model = ChurnModelVersion.objects.create(status="promoted", metrics={"auc": 0.8})
    ChurnPrediction.objects.create(
        account=account, day=timezone.localdate(), model=model, probability=0.4, expected_saved=12,
        drivers=[{"feature": "active_days_30", "contribution": 0.1}],
    )  # fmt: skip
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
def test_health_api_conforms_to_its_schema(case, admin_key_headers, monkeypatch):
    from churnapp.authentication import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": None})
    case.call_and_validate(headers=admin_key_headers, checks=CHECKS)


def test_every_operation_of_the_schema_is_covered_by_a_schemathesis_test():
    """Each operation in /api/schema/ falls under one of the schemathesis tests' path filters."""
    import re

    from tests.accounts.test_api_schemathesis import OPERATIONS as DATA_IN

    covered = [DATA_IN, OPERATIONS, r"^/api/v1/winback/", r"^/api/v1/kpis/"]
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    uncovered = [path for path in paths if not any(re.search(pattern, path) for pattern in covered)]
    assert uncovered == []
