"""A synthetic history for the backtest benchmark, built in the database, set-based: every table is filled with one
INSERT … SELECT over a recursive series of days (and of accounts), the values drawn from a hash of (account, day)
so the same size gives the same rows. About one account in seven churns (its subscription ends in the window),
with its health falling, its usage stopping and its tickets piling up in the weeks before.

Rows: daily health snapshots and usage rollups (active days), weekly account metrics, about six tickets and four
survey answers per account and year, first feature uses, a few failed payments and high-priority tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from accounts.models import Account, BillingEvent, Subscription, SupportTicket, SurveyResponse, Task
from health.models import AccountMetrics, FeatureFirstUse, HealthProfileVersion, HealthSnapshot, UsageDaily

PREFIX = "BENCH-"


def _date(origin: dt.date, days: str) -> str:
    if connection.vendor == "postgresql":
        return f"(DATE '{origin.isoformat()}' + CAST(({days}) AS integer))"
    return f"date('{origin.isoformat()}', ({days}) || ' days')"


def _time(origin: dt.date, hours: str) -> str:
    if connection.vendor == "postgresql":
        return f"(TIMESTAMPTZ '{origin.isoformat()} 00:00:00+00' + ({hours}) * INTERVAL '1 hour')"
    return f"datetime('{origin.isoformat()}', ({hours}) || ' hours')"


def _hash(salt: int) -> str:
    return f"((a.id * 2654435761 + d.n * 40503 + {salt} * 7919) % 1000)"


def _insert(model, exprs: dict[str, str], source: str, params: list | None = None) -> int:
    """INSERT … SELECT: the columns in `exprs` from their SQL, every other one its default (NULL when nullable)."""
    columns, values, args = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(f.column))
        if f.column in exprs:
            values.append(exprs[f.column])
        elif f.null and not f.has_default():
            values.append("NULL")
        else:
            values.append("@@P@@")
            args.append(f.get_db_prep_save(f.get_default(), connection))
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) {source.replace('{values}', ', '.join(values))}"
    sql = sql.replace("%", "%%").replace("@@P@@", "%s")  # the SQL's own % (modulo, LIKE) are literal
    with connection.cursor() as cursor:
        cursor.execute(sql, [*args, *(params or [])])
        return cursor.rowcount


def _series(first: int, last: int) -> str:
    return f"WITH RECURSIVE d(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM d WHERE n < {last}) "


def build(*, accounts: int, start: dt.date, end: dt.date) -> dict[str, int]:
    """Fill the tables for `accounts` accounts with history over [start − lookback, end]; day numbers are counted
    from `start`. Returns the rows written per table."""
    last = (end - start).days
    churner = "(a.id % 7 = 0)"
    churn_n = "(30 + (a.id * 31) % 330)"  # the churn day of a churner, in the window
    bench = f"FROM accounts_account a CROSS JOIN d WHERE a.external_id LIKE '{PREFIX}%'"
    counts: dict[str, int] = {}
    counts["accounts"] = _insert(
        Account,
        {"external_id": f"'{PREFIX}' || d.n", "name": "'Bench account ' || d.n", "segment": "'smb'",
         "plan": "'growth'", "status": "'active'", "lifecycle_stage": "'adopted'",
         "created_at": _time(start, "-24 * 410"), "updated_at": _time(start, "0")},
        _series(1, accounts) + "SELECT {values} FROM d",
    )  # fmt: skip
    one = bench.replace("CROSS JOIN d", "CROSS JOIN (SELECT 0 AS n) d")
    counts["subscriptions"] = _insert(
        Subscription,
        {"account_id": "a.id", "product": "'growth'", "mrr": "(50 + a.id % 500)", "quantity": "(1 + a.id % 20)",
         "units": "'seats'", "billing_period": "(CASE WHEN a.id % 5 = 0 THEN 12 ELSE 1 END)",
         "start_date": _date(start, "-400"),
         "end_date": f"(CASE WHEN {churner} THEN {_date(start, churn_n)} ELSE NULL END)", "status": "'active'",
         "currency": "''", "external_id": "''", "cancellation_reason": "''"},
        "SELECT {values} " + one,
    )  # fmt: skip
    version = HealthProfileVersion.objects.filter(status="published").values_list("pk", flat=True).first()
    decline = f"(CASE WHEN {churner} AND d.n > {churn_n} - 60 THEN (d.n - {churn_n} + 60) / 2 ELSE 0 END)"
    decline = f"(CASE WHEN {decline} > 30 THEN 30 ELSE {decline} END)"
    raw = f"(55 + (a.id * 37) % 40 + ((a.id + d.n / 14) % 4) * 5 - 8 - {decline})"
    score = f"(CASE WHEN {raw} > 100 THEN 100 WHEN {raw} < 0 THEN 0 ELSE {raw} END)"
    counts["health_snapshots"] = _insert(
        HealthSnapshot,
        {"account_id": "a.id", "day": _date(start, "d.n"), "version_id": str(version), "score": score,
         "band": f"(CASE WHEN {score} >= 70 THEN 'green' WHEN {score} >= 40 THEN 'yellow' ELSE 'red' END)"},
        _series(-8, last) + "SELECT {values} " + bench,
    )  # fmt: skip
    quiet = f"({churner} AND d.n > {churn_n} - 25)"
    counts["usage_days"] = _insert(
        UsageDaily,
        {"account_id": "a.id", "day": _date(start, "d.n"), "events": f"(1 + {_hash(1)} % 20)",
         "key_events": f"({_hash(1)} % 5)", "active_users": f"(1 + {_hash(1)} % 4)", "meaningful": "TRUE"},
        _series(-20, last) + "SELECT {values} " + bench + f" AND {_hash(1)} % 10 < 3 + a.id % 7 AND NOT {quiet}",
    )  # fmt: skip
    counts["account_metrics"] = _insert(
        AccountMetrics,
        {"account_id": "a.id", "day": _date(start, "d.n"), "seat_depth": f"(({_hash(2)} % 100) / 100.0)"},
        _series(-7, last) + "SELECT {values} " + bench + " AND d.n % 7 = 0",
    )  # fmt: skip
    stormy = f"({churner} AND d.n BETWEEN {churn_n} - 30 AND {churn_n} AND {_hash(3)} % 7 = 0)"
    counts["tickets"] = _insert(
        SupportTicket,
        {"account_id": "a.id", "external_id": "'BT-' || a.id || '-' || d.n", "subject": "'Bench ticket'",
         "status": f"(CASE WHEN {_hash(4)} % 50 = 0 THEN 'open' ELSE 'closed' END)", "priority": "'normal'",
         "opened_at": _time(start, f"24 * d.n + {_hash(4)} % 24"),
         "resolved_at": f"(CASE WHEN {_hash(4)} % 50 = 0 THEN NULL ELSE "
                        f"{_time(start, f'24 * d.n + {_hash(4)} % 24 + {_hash(5)} % 200')} END)"},
        _series(-20, last) + "SELECT {values} " + bench + f" AND ({_hash(3)} % 61 = 0 OR {stormy})",
    )  # fmt: skip
    detractor = f"(CASE WHEN {churner} AND d.n > {churn_n} - 90 THEN {_hash(6)} % 7 ELSE 5 + {_hash(6)} % 6 END)"
    counts["survey_responses"] = _insert(
        SurveyResponse,
        {"account_id": "a.id", "kind": "(CASE WHEN d.n % 180 < 90 THEN 'nps' ELSE 'csat' END)",
         "score": f"(CASE WHEN d.n % 180 < 90 THEN {detractor} ELSE 1 + {_hash(6)} % 5 END)",
         "responded_at": _time(start, f"24 * d.n + {_hash(6)} % 24"), "external_id": "''", "comment": "''"},
        _series(-30, last) + "SELECT {values} " + bench + " AND (d.n + a.id) % 90 = 0",
    )  # fmt: skip
    counts["feature_first_uses"] = _insert(
        FeatureFirstUse,
        {"account_id": "a.id", "feature": "'feature-' || d.n", "first_day": _date(start, "-300 + (a.id * d.n) % 330")},
        _series(0, 2) + "SELECT {values} " + bench,
    )  # fmt: skip
    counts["billing_events"] = _insert(
        BillingEvent,
        {"account_id": "a.id", "kind": "(CASE WHEN d.n = 0 THEN 'payment_failed' ELSE 'payment_succeeded' END)",
         "occurred_at": _time(start, "24 * ((a.id * 13) % 360 + 5 * d.n)"),
         "source_event_id": "'bench-' || a.id || '-' || d.n", "currency": "''"},
        _series(0, 1) + "SELECT {values} " + bench + " AND a.id % 20 = 0",
    )  # fmt: skip
    counts["tasks"] = _insert(
        Task,
        {"account_id": "a.id", "title": "'Bench follow-up'", "priority": "'high'", "status": "'done'",
         "source": "'manual'", "created_at": _time(start, "24 * ((a.id * 17) % 360)"),
         "completed_at": _time(start, "24 * ((a.id * 17) % 360 + 5)"), "description": "''", "outcome": "''"},
        "SELECT {values} " + one + " AND a.id % 10 = 0",
    )  # fmt: skip
    return counts


BIG_TABLES = (HealthSnapshot, UsageDaily, AccountMetrics)


@contextmanager
def loading(models=BIG_TABLES) -> Iterator[None]:
    """On PostgreSQL, the big tables' secondary indexes and their unique and foreign-key constraints dropped while
    they fill and built again after (all inside the caller's transaction): one sort per index instead of one index
    insert per row."""
    if connection.vendor != "postgresql":
        yield
        return
    saved: list[tuple[str, str, str]] = []
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                "AND contype IN ('u', 'f')",
                [table],
            )
            for name, definition in cursor.fetchall():
                saved.append(("constraint", table, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [table],
            )
            for name, definition in cursor.fetchall():
                saved.append(("index", table, definition))
                cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        for _kind, _table, statement in sorted(saved, key=lambda s: s[0] != "index"):
            cursor.execute(statement)


def baseline_sql() -> str:
    """One aggregate over the same history rows: snapshots per day, with their mean score."""
    return f"SELECT day, COUNT(*), AVG(score) FROM {HealthSnapshot._meta.db_table} GROUP BY day"
