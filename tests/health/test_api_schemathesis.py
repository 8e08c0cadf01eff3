"""schemathesis against the health part of /api/schema/, in-process: no server errors, no schema violations.

Covers health snapshots, health profile versions, churn models (list, retrieve, current, train) and churn
predictions, with data in place so that list, detail and filter examples reach real rows.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from health import services
from health.models import ChurnModelVersion, ChurnPrediction
from tests.factories import AccountFactory, SubscriptionFactory
from tests.schemathesis_support import api_key_headers, api_schema, call_and_validate, fuzz_settings

OPERATIONS = r"^/api/v1/(health-snapshots|health-profile-versions|churn-models|churn-predictions)/"
schema = api_schema(OPERATIONS)


@pytest.fixture
def admin_key_headers(db, wsgi_keeps_test_connection):
    account = AccountFactory(external_id="acc-1")
    SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1))
    services.health_recompute()
    model = ChurnModelVersion.objects.create(status="promoted", metrics={"auc": 0.8})
    ChurnPrediction.objects.create(
        account=account, day=timezone.localdate(), model=model, probability=0.4, expected_saved=12,
        drivers=[{"feature": "active_days_30", "contribution": 0.1}],
    )  # fmt: skip
    return api_key_headers("admin")


@schema.parametrize()
@fuzz_settings(5)
@pytest.mark.django_db
def test_health_api_conforms_to_its_schema(case, admin_key_headers, monkeypatch):
    call_and_validate(case, admin_key_headers, monkeypatch)


def test_every_operation_of_the_schema_is_covered_by_a_schemathesis_test():
    """Each operation in /api/schema/ falls under one of the schemathesis tests' path filters."""
    from tests.accounts.test_api_schemathesis import OPERATIONS as DATA_IN
    from tests.audit.test_api_schemathesis import OPERATIONS as AUDIT
    from tests.automations.test_rule_backtest_api import OPERATIONS as RULE_BACKTESTS
    from tests.configuration.test_api_schemathesis import OPERATIONS as CONFIGURATION
    from tests.configuration.test_bundle_schemathesis import OPERATIONS as BUNDLE

    covered = [DATA_IN, OPERATIONS, AUDIT, RULE_BACKTESTS, CONFIGURATION, BUNDLE, r"^/api/v1/winback/"]
    covered.append(r"^/api/v1/kpis/")
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    uncovered = [path for path in paths if not any(re.search(pattern, path) for pattern in covered)]
    assert uncovered == []
