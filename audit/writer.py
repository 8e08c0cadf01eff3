"""Write many audit entries at the speed of the database: COPY on PostgreSQL, one executemany on SQLite.

A set-based write of fifty thousand rows records fifty thousand entries; building model instances for
`bulk_create` would cost as much as the write itself. The entries of one write share who, when, the door and the
kind of object (`COMMON`); each row adds its object, label, action, changes and account (`PER_ROW`)."""

from __future__ import annotations

import io

import orjson
from django.db import connections

from audit.models import AuditEntry

COMMON = ("occurred_at", "door", "actor_kind", "actor_id", "actor_label", "user_id", "object_type", "batch")
PER_ROW = ("object_id", "object_label", "action", "changes", "account_id")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _json(changes: dict) -> str:
    """Changes as JSON text; dates as ISO 8601 and decimals as text, as `audit.capture.plain` writes them."""
    return orjson.dumps(changes, default=str).decode()


def _copy_field(value) -> str:
    return "\\N" if value is None else str(value).translate(_ESCAPES)


def insert_rows(common: tuple, rows: list[tuple], *, using: str = "default") -> None:
    """INSERT one entry per row (PER_ROW values, changes as a dict) sharing the COMMON values, in the caller's
    transaction."""
    if not rows:
        return
    connection = connections[using]
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in COMMON + PER_ROW)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            prefix = "\t".join(_copy_field(value) for value in common) + "\t"
            account_text = {None: "\\N"}
            buffer = io.StringIO()
            write = buffer.write
            for object_id, label, action, changes, account_id in rows:
                write(prefix)
                write(f"{_copy_field(object_id)}\t{_copy_field(label)}\t{action}\t")
                write(_json(changes).translate(_ESCAPES))
                write("\t")
                write(account_text.get(account_id) or str(account_id))
                write("\n")
            buffer.seek(0)
            cursor.cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", buffer)
            return
        first = (connection.ops.adapt_datetimefield_value(common[0]), *common[1:])
        placeholders = ", ".join(["%s"] * (len(COMMON) + len(PER_ROW)))
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({placeholders})",
            [(*first, object_id, label, action, _json(changes), account_id)
             for object_id, label, action, changes, account_id in rows],
        )  # fmt: skip
