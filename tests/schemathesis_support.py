"""What the schemathesis tests of /api/schema/ share: the schema exactly as it is served, run in-process against
the WSGI application, the checks, the fuzzing settings and a call with an API key and no throttling.

Each app's test module takes the operations it covers (`api_schema(path_regex)`), builds its fixture data and
decorates its test with `@schema.parametrize()` and `@fuzz_settings(n)`.
"""

from __future__ import annotations

import json

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

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def api_schema(path_regex: str) -> schemathesis.BaseSchema:
    """The operations of /api/schema/ whose path matches `path_regex`, called in-process."""
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application
    loaded.location = "/api/schema/"
    return loaded.include(path_regex=path_regex)


def fuzz_settings(max_examples: int):
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,  # the same examples on every run: CI is never red by chance
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def api_key_headers(*scopes: str) -> dict[str, str]:
    """A fresh API key with `scopes`, as request headers (and an empty cache: no throttle history)."""
    cache.clear()
    _, secret = api_key_create(name="schemathesis", scopes=list(scopes))
    return {"Authorization": f"Bearer {secret}"}


def call_and_validate(case, headers: dict[str, str], monkeypatch) -> None:
    """Send `case` and run every check; throttling is per key and real, so the fuzzer would hit 429 part-way."""
    from churnapp.authentication import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": None})
    case.call_and_validate(headers=headers, checks=CHECKS)
