"""Set-based upserts by natural key, shared by the REST API (single and bulk) and the file imports.

Flow for a batch of raw rows: `rows_validate` (serializer shapes and types, no queries) → `rows_resolve` (account
external ids, user e-mails and contacts in one query each) → `rows_upsert` (one SELECT for existing rows, one
bulk UPDATE, one bulk INSERT). The REST API is all-or-nothing (`bulk_upsert` raises RowErrors and writes nothing);
imports write the valid rows and report the others (`chunk_upsert`). Modules: `rows` (kinds, validation,
resolution), `upsert` (the generic upsert), `writes` (the entry points) and `pending_tickets` (REST tickets kept
until their account appears); the public names are re-exported here. What new accounts and contacts release
(`accounts.replays`) runs on the `accounts-upserted` hook the upsert announces.
"""

from __future__ import annotations

from accounts.imports.services.pending_tickets import PENDING_TICKETS_SOURCE, tickets_pending_sync
from accounts.imports.services.rows import (
    DATE_RANGE_MESSAGE,
    KINDS,
    Kind,
    RowErrors,
    RowsForbidden,
    rows_resolve,
    rows_validate,
)
from accounts.imports.services.upsert import HEALTH_FACT_KINDS, UpsertResult, facts_changed, rows_upsert
from accounts.imports.services.writes import (
    bulk_upsert,
    chunk_upsert,
    delete_one,
    event_day_pairs,
    update_one,
    upsert_one,
)

__all__ = [
    "DATE_RANGE_MESSAGE",
    "Kind",
    "KINDS",
    "RowErrors",
    "RowsForbidden",
    "UpsertResult",
    "rows_validate",
    "rows_resolve",
    "HEALTH_FACT_KINDS",
    "facts_changed",
    "rows_upsert",
    "bulk_upsert",
    "PENDING_TICKETS_SOURCE",
    "tickets_pending_sync",
    "chunk_upsert",
    "upsert_one",
    "delete_one",
    "update_one",
    "event_day_pairs",
]
