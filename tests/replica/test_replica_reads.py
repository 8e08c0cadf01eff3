"""Dashboards, the KPI API and the accounts list read from a real streaming replica and agree with the primary;
writes go to the primary, and a browser that has just written reads its own writes from the primary."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from churnapp.dbrouting import PIN_COOKIE, REPLICA, replica_reads
from dashboards.api import KPI_VIEWS
from tests.factories import AccountFactory

pytestmark = [pytest.mark.replica, pytest.mark.django_db(transaction=True, databases=["default", REPLICA])]

PERIOD = {"start": "2024-01-01", "end": "2024-02-01"}


def _get(client, url, params=None, *, pinned: bool = False):
    """The response, and the queries it sent to the replica and to the primary."""
    client.cookies.pop(PIN_COOKIE, None)
    if pinned:
        client.cookies[PIN_COOKIE] = "1"
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        with CaptureQueriesContext(connections["default"]) as on_primary:
            response = client.get(url, params or {})
    return response, on_replica, on_primary


def _reads(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]


def test_the_kpi_api_reads_the_replica_and_agrees_with_the_primary(client, viewer, book, standby):
    client.force_login(viewer)
    standby()
    answered = 0
    for name in KPI_VIEWS:
        from_replica, on_replica, on_primary = _get(client, f"/api/v1/kpis/{name}/", PERIOD)
        from_primary, replica_when_pinned, _ = _get(client, f"/api/v1/kpis/{name}/", PERIOD, pinned=True)
        assert from_replica.status_code == from_primary.status_code, name  # 400 where a KPI needs more parameters
        assert from_replica.json() == from_primary.json(), name
        assert not _reads(on_primary) and not replica_when_pinned, name
        if from_replica.status_code == 200:
            assert _reads(on_replica), name
            answered += 1
    assert answered >= 10
    series, on_replica, on_primary = _get(client, "/api/v1/kpis/churn-rate/series/", PERIOD)
    assert series.status_code == 200 and _reads(on_replica) and not _reads(on_primary)


def test_the_dashboard_and_the_accounts_list_read_the_replica(client, admin_user, book, standby):
    client.force_login(admin_user)
    standby()
    for url in ("/dashboard/", "/accounts/"):
        response, on_replica, on_primary = _get(client, url)
        assert response.status_code == 200, url
        assert _reads(on_replica) and not _reads(on_primary), url
    listed, _, _ = _get(client, "/accounts/")
    assert all(name.encode() in listed.content for name in ("Addon", "Back", "Down"))


def test_other_pages_read_the_primary(client, admin_user, book, standby):
    client.force_login(admin_user)
    standby()
    account = book["A"]
    response, on_replica, on_primary = _get(client, f"/accounts/{account.pk}/")
    assert response.status_code == 200 and not on_replica and _reads(on_primary)


def test_a_browser_that_writes_reads_its_own_writes_from_the_primary(client, admin_user, book, standby):
    client.force_login(admin_user)
    standby()
    account = book["C"]
    changed = client.post(f"/accounts/{account.pk}/status/", {"status": "at_risk"})
    assert changed.status_code in (200, 302)
    assert PIN_COOKIE in changed.cookies and changed.cookies[PIN_COOKIE]["max-age"]
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        listed = client.get("/accounts/", {"status": "at_risk"})  # the pin cookie rides along
    assert listed.status_code == 200 and not on_replica
    assert b"At risk" in listed.content or account.name.encode() in listed.content


def test_writes_in_a_replica_request_go_to_the_primary(standby):
    standby()
    with replica_reads():
        created = AccountFactory(name="Written on the primary")
    standby()
    assert Account.objects.using("default").filter(pk=created.pk).exists()
    assert Account.objects.using(REPLICA).filter(pk=created.pk).exists()  # and streamed to the standby
