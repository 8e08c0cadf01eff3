"""A real streaming replica (`DATABASE_REPLICA_URL`, started by `.ci/run`): the test database is created on the
primary and streams to the standby, where the "replica" alias reads it once replay has caught up."""

from __future__ import annotations

import os
import time
import urllib.parse

import pytest
from django.conf import settings
from django.db import connections

from churnapp.dbrouting import REPLICA
from tests.dashboards.conftest import book  # noqa: F401 - the hand-computed book of the KPI tests


@pytest.fixture
def standby():
    """Point the replica alias (a test mirror of the primary while databases are set up) at the standby's copy of
    the test database; `catch_up()` waits until the standby has replayed every write committed so far."""
    if REPLICA not in settings.DATABASES:
        pytest.fail("The replica tests need DATABASE_REPLICA_URL (a streaming replica of DATABASE_URL).")
    url = urllib.parse.urlsplit(os.environ["DATABASE_REPLICA_URL"])
    mirrored = connections[REPLICA].settings_dict
    connections[REPLICA].close()
    test_name = connections["default"].settings_dict["NAME"]
    connections[REPLICA].settings_dict = {
        **mirrored,
        "HOST": url.hostname,
        "PORT": str(url.port or 5432),
        "NAME": test_name,
    }
    try:
        yield catch_up
    finally:
        connections[REPLICA].close()
        connections[REPLICA].settings_dict = mirrored


def catch_up(timeout: float = 15.0) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (lsn,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
            in_recovery, replayed = cursor.fetchone()
        assert in_recovery, "the replica alias does not reach a standby"
        if replayed:
            return
        time.sleep(0.05)
    raise AssertionError(f"the standby did not replay {lsn} within {timeout} s")
