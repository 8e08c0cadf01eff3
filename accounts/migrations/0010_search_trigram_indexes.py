"""Trigram (pg_trgm) GIN indexes for the search across everything (accounts.search), on PostgreSQL only: each serves
both `ILIKE '%q%'` (a part of a name or an email) and the similarity operators (a name with a typo). SQLite, the
embedded default, searches by substring without an index. pg_trgm is a trusted extension (PostgreSQL 13+): the
database owner may create it."""

from django.db import migrations

INDEXES = [
    ("accounts_account_name_trgm", "accounts_account", "name", ""),
    ("accounts_account_domain_trgm", "accounts_account", "domain", ""),
    ("accounts_contact_name_trgm", "accounts_contact", "name", ""),
    ("accounts_contact_email_trgm", "accounts_contact", "email", ""),
    ("accounts_supportticket_subject_trgm", "accounts_supportticket", "subject", ""),
    ("accounts_task_title_trgm", "accounts_task", "title", ""),
    # Notes, calls, meetings: the audit entries (kind 'change') are never searched, so never indexed.
    ("accounts_activity_subject_trgm", "accounts_activity", "subject", "WHERE kind <> 'change'"),
    ("accounts_activity_body_trgm", "accounts_activity", "body", "WHERE kind <> 'change'"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column, where in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (upper({column}) gin_trgm_ops) {where}"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, *_ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_bulk_edit")]

    operations = [migrations.RunPython(create, drop)]
