"""The health results cached on accounts (score, band, trend, churn probability), written set-based by the health
app, and the band changes they announce."""

from __future__ import annotations

from django.db import connection, transaction

from accounts.models import Account
from churnapp import hooks
from churnapp.queries import filter_ids

HEALTH_FIELDS = {
    "health_score": "integer",
    "health_band": "varchar(16)",
    "health_trend": "integer",
    "health_scored_at": "timestamp with time zone",
    "churn_probability": "double precision",
}


def account_set_health_bulk(*, rows: list[dict], batch_size: int = 5000) -> int:
    """Cache health results on accounts, set-based (the health app's only write into accounts).

    Each row is {"account_id": …, and any of HEALTH_FIELDS}; every row must carry the same fields. One
    `UPDATE … FROM (VALUES …)` per batch (PostgreSQL, and SQLite ≥ 3.33); returns how many accounts changed.
    """
    if not rows:
        return 0
    fields = [f for f in HEALTH_FIELDS if f in rows[0]]
    if not fields or any(set(row) - {"account_id"} != set(fields) for row in rows):
        raise ValueError(f"Each row needs account_id and the same fields among {tuple(HEALTH_FIELDS)}.")
    if "health_band" in fields and hooks.wanted(hooks.ACCOUNT_HEALTH_BAND_CHANGED):
        _emit_band_changes(rows)

    quote = connection.ops.quote_name
    table = quote(Account._meta.db_table)

    def cast(f: str) -> str:  # SQLite keeps a time as text
        return "text" if connection.vendor == "sqlite" and f == "health_scored_at" else HEALTH_FIELDS[f]

    placeholder = "(" + ", ".join(["CAST(%s AS bigint)"] + [f"CAST(%s AS {cast(f)})" for f in fields]) + ")"
    assignments = ", ".join(
        f"{quote(Account._meta.get_field(f).column)} = v.column{i + 2}" for i, f in enumerate(fields)
    )
    updated = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            params: list = []
            for row in batch:
                params.append(row["account_id"])
                params.extend(_health_param(f, row[f]) for f in fields)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([placeholder] * len(batch))}) AS v "
                f"WHERE {table}.{quote('id')} = v.column1",
                params,
            )
            updated += cursor.rowcount
    return updated


def _health_param(field: str, value):
    if field == "health_band" and value is None:
        return ""
    if field == "health_scored_at":
        return Account._meta.get_field(field).get_db_prep_value(value, connection)
    return value


def _emit_band_changes(rows: list[dict]) -> None:
    """`account.health_band_changed` for every scored account whose band moves (red → yellow, …); an account
    scored for the first time, or no longer scored, has no band to move from or to."""
    ids = [row["account_id"] for row in rows]
    scope = filter_ids(Account.objects, ids, "pk")
    before = {pk: (band, ext) for pk, band, ext in scope.values_list("pk", "health_band", "external_id")}
    payloads = []
    for row in rows:
        old, external_id = before.get(row["account_id"], ("", ""))
        new = row["health_band"] or ""
        if old and new and old != new:
            payloads.append({"account_id": row["account_id"], "external_id": external_id, "old": old, "new": new,
                             "score": row.get("health_score")})  # fmt: skip
    hooks.notify(hooks.ACCOUNT_HEALTH_BAND_CHANGED, payloads)
