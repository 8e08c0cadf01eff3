"""The database itself refuses to change an audit entry, unless the retention purge or an erasure opened the gate
(`audit.gate`) inside its own transaction. On PostgreSQL it refuses deletes too; TRUNCATE (test teardown only) fires
no row trigger. On SQLite the gate is a row of `audit_gate` written inside the transaction (SQLite has one writer at
a time, so no other connection sees it open); deletes are refused by the model and its queryset, since Django's
test flush deletes rows one table at a time."""

from django.db import migrations

CREATE = """
CREATE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('churnapp.audit_gate', true), '') = 'on' THEN
        RETURN coalesce(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'audit entries are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_append_only();
"""


SQLITE_CREATE = (
    "CREATE TABLE audit_gate (opened integer NOT NULL)",
    """CREATE TRIGGER audit_entry_append_only BEFORE UPDATE ON audit_auditentry
    WHEN NOT EXISTS (SELECT 1 FROM audit_gate)
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
)
SQLITE_DROP = ("DROP TRIGGER IF EXISTS audit_entry_append_only", "DROP TABLE IF EXISTS audit_gate")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
