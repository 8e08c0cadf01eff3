"""The permission matrix: every route and API operation × every actor, sent for real, answers as
`permission_matrix.py` says; and no route of the URL resolver or operation of the OpenAPI schema lacks a row."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from tests.churnapp import permission_matrix as matrix
from tests.churnapp.permission_world import (
    ACTORS,
    api_operations,
    build_world,
    client_for,
    log_in,
    outcome,
    schema_path_of,
    url_routes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One set of objects for the whole module, rolled back at its end; each request runs in a savepoint that is
    rolled back too, so every actor meets the same world."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_world()
        log_in(built)
        yield built
        transaction.set_rollback(True)


def _send(world, actor: str, method: str, url: str, body, *, json_body: bool):
    client = client_for(world, actor)
    kwargs = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if json_body else {"data": body}
    with transaction.atomic():
        response = getattr(client, method)(url, **kwargs)
        transaction.set_rollback(True)
    return response


def _url(world, row: matrix.Row) -> str:
    url = row.route.format(**world.kwargs(row.route, matrix.PK_OF, matrix.KWARG_VALUES, row.variant))
    return f"{url}?{matrix.QUERY[row.route]}" if row.route in matrix.QUERY else url


@pytest.mark.parametrize("row", matrix.ROWS, ids=str)
def test_each_actor_gets_the_expected_outcome(world, settings, row):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_permission_matrix"
    settings.HELPDESK_WEBHOOK_SECRET = "permission-matrix"
    urls = matrix.ADMIN_URLS if row.route == matrix.ADMIN_ROUTE else [_url(world, row)]
    body = world.fill(matrix.body_for(row.route, row.method, row.variant))
    json_body = row.route.startswith(("/api/", "/v1/"))
    wrong, pending = [], []
    for url in urls:
        for actor in ACTORS:
            got = outcome(_send(world, actor, row.method, url, body, json_body=json_body))
            if got != row.expect[actor]:
                line = f"{actor}: {row.method.upper()} {url} expected {row.expect[actor]}, got {got}"
                (pending if actor in row.pending else wrong).append(line)
    assert wrong == [], "\n".join(wrong)
    if pending:
        # The fixed behaviour is the row's expectation; until that fix is in, the old answer is a known failure.
        pytest.xfail("; ".join(sorted(set(row.pending.values()))) + "\n" + "\n".join(pending))


def test_every_url_route_has_a_row():
    operations = {path for path, _ in api_operations()}
    covered = {row.route for row in matrix.ROWS}
    missing = sorted(r for r in url_routes() if r not in covered and schema_path_of(r) not in operations)
    assert missing == [], f"Routes without a row in tests/churnapp/permission_matrix.py: {missing}"


def test_every_api_operation_has_a_row():
    covered = {(row.route, row.method) for row in matrix.ROWS}
    missing = sorted(op for op in api_operations() if op not in covered)
    assert missing == [], f"API operations without a row in tests/churnapp/permission_matrix.py: {missing}"


def test_every_row_names_a_live_route():
    operations = api_operations()
    routes = url_routes()
    stale = [
        str(row)
        for row in matrix.ROWS
        if (row.route, row.method) not in operations and row.route not in routes and row.route != matrix.ADMIN_ROUTE
    ]
    assert stale == []


def test_each_row_says_something_for_every_actor():
    assert all(set(row.expect) == set(ACTORS) for row in matrix.ROWS)
    assert all(set(row.pending) <= set(ACTORS) for row in matrix.ROWS)
