"""Reads that may come from the streaming replica, and everything else on the primary.

Only requests that show precomputed state read from the replica: the dashboards, the KPI API and the accounts list
(GET and HEAD). `ReplicaReadsMiddleware` marks such a request; the router then sends its reads to "replica". Every
write goes to the primary, and so does every read inside a transaction on the primary.

Read your writes: after a person changes something (any POST, PUT, PATCH or DELETE), a short-lived cookie pins
their browser to the primary for `REPLICA_PIN_SECONDS`, longer than the replica's usual lag, so the page they land
on shows their change. API clients without cookies read the KPIs, which the workers compute, from the replica.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PIN_COOKIE = "churnapp_primary"
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads() -> Iterator[None]:
    """Inside the block, reads go to the replica (when one is configured and no transaction is open)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        if _replica_reads.get() and replica_configured() and not connections["default"].in_atomic_block:
            return REPLICA
        return None

    def db_for_write(self, model, **hints) -> str:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == "default"


def _reads_precomputed_state(path: str) -> bool:
    return path.startswith(("/dashboard/", "/api/v1/kpis/")) or path == "/accounts/"


class ReplicaReadsMiddleware:
    """Runs the dashboards', KPI API's and accounts list's GET requests with reads on the replica, unless the browser
    is pinned to the primary; pins it after a request that changes something."""

    SAFE = ("GET", "HEAD", "OPTIONS")

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        if request.method in self.SAFE and PIN_COOKIE not in request.COOKIES and _reads_precomputed_state(request.path):
            with replica_reads():
                return self.get_response(request)
        response = self.get_response(request)
        if request.method not in self.SAFE:
            response.set_cookie(
                PIN_COOKIE, "1", max_age=settings.REPLICA_PIN_SECONDS, httponly=True, samesite="Lax",
                secure=request.is_secure(),
            )  # fmt: skip
        return response
