"""Content types (and so permissions and admin log entries) of the moved models follow them to messaging."""

from django.db import migrations

MOVED = {
    "automations": ["emailtemplate", "emailmessage", "suppression", "notification"],
    "churnapp": ["webhookendpoint", "webhookdelivery"],
}


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for app_label, models in MOVED.items():
        for model in models:
            if not ContentType.objects.filter(app_label="messaging", model=model).exists():
                ContentType.objects.filter(app_label=app_label, model=model).update(app_label="messaging")


def backwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for app_label, models in MOVED.items():
        ContentType.objects.filter(app_label="messaging", model__in=models).update(app_label=app_label)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("messaging", "0001_initial"),
        ("automations", "0011_messaging_models_moved"),
        ("churnapp", "0004_messaging_models_moved"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
