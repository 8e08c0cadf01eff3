"""Bulk inserts for the derived tables: COPY on PostgreSQL (tens of thousands of rows per second more than
INSERT), `bulk_create` elsewhere. Rows are plain dicts keyed by field attname."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable

from django.db import connection, models

CHUNK = 100_000


def _cell(value, field: models.Field):
    if value is None:
        return r"\N"
    if isinstance(field, models.JSONField):
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if isinstance(field, models.BooleanField):
        return "t" if value else "f"
    if isinstance(field, models.IntegerField):
        return int(round(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def bulk_insert(model: type[models.Model], rows: Iterable[dict], *, batch_size: int = 5000) -> int:
    """Insert rows (dicts of attname → value; JSON fields may be given as ready JSON text)."""
    rows = list(rows)
    if not rows:
        return 0
    names = list(rows[0])
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[name] for name in names]
    if connection.vendor != "postgresql":
        objs = []
        for row in rows:
            values = dict(row)
            for name, field in zip(names, fields, strict=True):
                if isinstance(field, models.JSONField) and isinstance(values[name], str):
                    values[name] = json.loads(values[name])
            objs.append(model(**values))
        model.objects.bulk_create(objs, batch_size=batch_size)
        return len(objs)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for row in rows[start : start + CHUNK]:
                writer.writerow([_cell(row[name], field) for name, field in zip(names, fields, strict=True)])
            buffer.seek(0)
            cursor.copy_expert(sql, buffer)
    return len(rows)


def copy_frame(model: type[models.Model], frame, *, chunk: int = 500_000) -> int:
    """COPY a DataFrame (columns = attnames) into the model's table on PostgreSQL; every NOT NULL column the
    frame lacks gets the field's Python default (Django keeps defaults out of the schema)."""
    import pandas as pd  # only the COPY paths of PostgreSQL need it; pandas loads in about a second

    frame = frame.copy()
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in frame:
            continue
        default = field.get_default() if field.has_default() else ("" if not field.null else None)
        if isinstance(field, models.JSONField):
            default = json.dumps(default)
        frame[field.attname] = default
    for column in frame.columns:
        if pd.api.types.is_bool_dtype(frame[column]):
            frame[column] = frame[column].map({True: "t", False: "f"})
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[c] for c in frame.columns]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    with connection.cursor() as cursor:
        for start in range(0, len(frame), chunk):
            buffer = io.StringIO()
            frame.iloc[start : start + chunk].to_csv(buffer, header=False, index=False, na_rep="\\N")
            buffer.seek(0)
            cursor.copy_expert(sql, buffer)
    return len(frame)


def marks_upsert(
    model: type[models.Model],
    keys: Iterable[tuple],
    *,
    key_fields: list[str],
    at: dt.datetime,
    routine: bool | None = None,
) -> int:
    """Mark these keys stale at `at`, inside the caller's transaction, in key order.

    An existing mark keeps its time (the earliest): a key marked again and again, such as an account under a flood
    of events, keeps its place in the oldest-first queue instead of moving to its back. The no-op update still
    row-locks the mark, so a worker that claimed it waits for this transaction and then reads its facts; the same
    key order everywhere means no deadlock. With `routine`, a mark stays routine only while every marking was."""
    keys = sorted(set(keys))
    if not keys:
        return 0
    quote = connection.ops.quote_name
    by_name = {f.name: f for f in model._meta.concrete_fields}
    fields = [by_name[name] for name in key_fields] + [by_name["marked_at"]]
    values: tuple = (at,)
    merge = f"marked_at = {quote(model._meta.db_table)}.marked_at"
    if "last_marked_at" in by_name:  # the latest marking too, for a reader that must know
        fields.append(by_name["last_marked_at"])
        values = (at, at)
        merge += ", last_marked_at = excluded.last_marked_at"
    if routine is not None:
        fields.append(by_name["routine"])
        values = (*values, routine)
        merge += f", routine = {quote(model._meta.db_table)}.routine AND excluded.routine"
    columns = [field.column for field in fields]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(keys), 2000):
            chunk = keys[start : start + 2000]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) VALUES {', '.join([row] * len(chunk))} "
                f"ON CONFLICT ({', '.join(quote(c) for c in columns[: len(key_fields)])}) DO UPDATE SET {merge}",
                [f.get_db_prep_value(v, connection) for k in chunk for f, v in zip(fields, (*k, *values), strict=True)],
            )  # fmt: skip
    return len(keys)
