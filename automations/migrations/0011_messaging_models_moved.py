"""The email, notification and webhook models moved to the messaging app (its migration 0001 took their tables):
dropped from this app's state only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
        ("automations", "0010_checkpoint"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="emailmessage",
                    name="account",
                ),
                migrations.RemoveField(
                    model_name="emailmessage",
                    name="contact",
                ),
                migrations.RemoveField(
                    model_name="emailmessage",
                    name="template",
                ),
                migrations.RemoveField(
                    model_name="notification",
                    name="account",
                ),
                migrations.RemoveField(
                    model_name="notification",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="Suppression",
                ),
                migrations.DeleteModel(
                    name="EmailMessage",
                ),
                migrations.DeleteModel(
                    name="EmailTemplate",
                ),
                migrations.DeleteModel(
                    name="Notification",
                ),
            ]
        ),
    ]
