"""The one way past the trail's append-only rule: the retention purge and a data-subject erasure open the gate for
their own transaction. On PostgreSQL the gate is a transaction-local setting that the trigger reads, so another
connection never sees it open; on SQLite a row of `audit_gate`, written and removed inside the transaction. The ORM
checks the same flag on every database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction

GATE_SETTING = "churnapp.audit_gate"
_open: ContextVar[bool] = ContextVar("audit_gate_open", default=False)


class AppendOnlyError(PermissionError):
    def __init__(self) -> None:
        super().__init__("Audit entries cannot be changed or deleted.")


def is_open() -> bool:
    return _open.get()


@contextmanager
def opened() -> Iterator[None]:
    """Inside one transaction, let this code rewrite or remove audit entries."""
    with transaction.atomic():
        _set(True)
        token = _open.set(True)
        try:
            yield
        finally:
            _open.reset(token)
        _set(False)  # closed again for the rest of an outer transaction; after an error the rollback closes it


def _set(open_: bool) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, %s, true)", [GATE_SETTING, "on" if open_ else "off"])
        elif connection.vendor == "sqlite":
            cursor.execute("INSERT INTO audit_gate (opened) VALUES (1)" if open_ else "DELETE FROM audit_gate")
