from django.db import migrations, models
from django.utils.text import slugify


def fill_keys(apps, schema_editor):
    """Each existing endpoint gets a slug from its description, else its host, else `endpoint` (-2, -3… on ties)."""
    from urllib.parse import urlsplit

    WebhookEndpoint = apps.get_model("messaging", "WebhookEndpoint")
    taken: set[str] = set()
    for endpoint in WebhookEndpoint.objects.order_by("id"):
        base = (slugify(endpoint.description or urlsplit(endpoint.url).hostname or "") or "endpoint")[:94]
        key, n = base, 1
        while key in taken:
            n += 1
            key = f"{base}-{n}"
        taken.add(key)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(key=key)


class Migration(migrations.Migration):
    dependencies = [("messaging", "0002_content_types")]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint", name="key", field=models.SlugField(max_length=100, null=True, db_index=False)
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="key",
            field=models.SlugField(
                help_text="Stable identifier (configuration bundle, API).", max_length=100, unique=True
            ),
        ),
    ]
