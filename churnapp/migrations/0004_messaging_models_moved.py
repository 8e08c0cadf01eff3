"""The email, notification and webhook models moved to the messaging app (its migration 0001 took their tables):
dropped from this app's state only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
        ("churnapp", "0003_service_heartbeat"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="webhookendpoint",
                    name="created_by",
                ),
                migrations.DeleteModel(
                    name="WebhookDelivery",
                ),
                migrations.DeleteModel(
                    name="WebhookEndpoint",
                ),
            ]
        ),
    ]
