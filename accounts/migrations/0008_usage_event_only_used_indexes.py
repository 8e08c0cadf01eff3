"""Usage events keep only the indexes their queries use: the foreign key's own index on `account_id` (the
(account_id, occurred_at) index leads with it) and the varchar_pattern_ops twin of the unique `message_id`
index go. The unique index itself stays as it is, under the same name, now declared as a constraint."""

from django.db import migrations, models


def drop_like_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'accounts_usageevent' "
            "AND indexdef LIKE '%%(message_id varchar_pattern_ops)%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def create_like_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS accounts_usageevent_message_id_like "
        "ON accounts_usageevent (message_id varchar_pattern_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_account_health_scored_at")]

    operations = [
        migrations.AlterField(
            model_name="usageevent",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.CASCADE,
                related_name="usage_events",
                to="accounts.account",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="usageevent", name="message_id", field=models.CharField(max_length=128)
                ),
                migrations.AddConstraint(
                    model_name="usageevent",
                    constraint=models.UniqueConstraint(
                        fields=("message_id",), name="accounts_usageevent_message_id_key"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_like_index, create_like_index)],
        ),
    ]
