"""Which reads may go to the replica (`churnapp.dbrouting`) and how `DATABASE_REPLICA_URL` is read. The real
replica is exercised in tests/replica (the replica stage of .ci/run)."""

from __future__ import annotations

from pathlib import Path

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from churnapp import db_settings, dbrouting
from churnapp.dbrouting import PIN_COOKIE, ReplicaReadsMiddleware, ReplicaRouter, replica_reads


@pytest.fixture
def with_replica(monkeypatch, settings):
    monkeypatch.setattr(dbrouting, "replica_configured", lambda: True)
    settings.REPLICA_PIN_SECONDS = 15


def _routed(path: str, method: str = "get", cookies: dict | None = None):
    """(the alias a read inside the view would use, the response)."""
    seen = {}

    def view(request):
        seen["alias"] = ReplicaRouter().db_for_read(None) or "default"
        return HttpResponse("ok")

    request = getattr(RequestFactory(), method)(path)
    request.COOKIES.update(cookies or {})
    response = ReplicaReadsMiddleware(view)(request)
    return seen["alias"], response


def test_reads_go_to_the_replica_only_inside_a_replica_block_and_outside_transactions(with_replica, transactional_db):
    router = ReplicaRouter()
    assert router.db_for_read(None) is None
    with replica_reads():
        assert router.db_for_read(None) == "replica"
        with transaction.atomic():
            assert router.db_for_read(None) is None  # read your writes inside a transaction
    assert router.db_for_read(None) is None
    with replica_reads():
        assert router.db_for_write(None) == "default"
    assert router.allow_migrate("default", "accounts") and not router.allow_migrate("replica", "accounts")


def test_without_a_replica_everything_stays_on_the_primary(db):
    with replica_reads():
        assert ReplicaRouter().db_for_read(None) is None
    alias, response = _routed("/dashboard/", "post")
    assert alias == "default" and PIN_COOKIE not in response.cookies


@pytest.mark.parametrize(
    ("path", "alias"),
    [("/dashboard/", "replica"), ("/dashboard/widgets/mrr/", "replica"), ("/api/v1/kpis/churn-rate/", "replica"),
     ("/accounts/", "replica"), ("/accounts/12/", "default"), ("/tasks/", "default"), ("/api/v1/accounts/", "default")],
)  # fmt: skip
def test_the_pages_that_show_precomputed_state_read_the_replica(with_replica, path, alias):
    assert _routed(path)[0] == alias


def test_a_write_pins_the_browser_to_the_primary(with_replica):
    alias, response = _routed("/accounts/12/status/", "post")
    assert alias == "default"
    cookie = response.cookies[PIN_COOKIE]
    assert cookie["max-age"] == 15 and cookie["httponly"]
    assert _routed("/dashboard/", cookies={PIN_COOKIE: "1"})[0] == "default"
    assert _routed("/dashboard/")[0] == "replica"


def _read(monkeypatch, **variables):
    for name in ("DATABASE_URL", "DATABASE_REPLICA_URL", "CONN_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return db_settings.read(environ.Env(), Path("/srv/churnapp"))


def test_the_replica_url_adds_the_alias_and_the_router(monkeypatch):
    databases, routers, _ = _read(
        monkeypatch,
        DATABASE_URL="postgres://app@db:5432/churnapp",
        DATABASE_REPLICA_URL="postgres://app@db2:5433/churnapp",
    )
    assert databases["replica"]["HOST"] == "db2" and databases["replica"]["PORT"] == 5433
    assert databases["replica"]["TEST"] == {"MIRROR": "default"}
    assert routers == ["churnapp.dbrouting.ReplicaRouter"]
    databases, routers, silenced = _read(monkeypatch)
    assert set(databases) == {"default"} and routers == [] and "models.W040" in silenced
    assert databases["default"]["NAME"] == "/srv/churnapp/db.sqlite3"


def test_a_replica_of_sqlite_is_refused_with_a_message(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="needs PostgreSQL"):
        _read(monkeypatch, DATABASE_REPLICA_URL="postgres://app@db2:5433/churnapp")
