import hashlib

from django.db import migrations, models


def fill_digests(apps, schema_editor):
    Suppression = apps.get_model("messaging", "Suppression")
    for row in Suppression.objects.only("id", "email"):
        digest = hashlib.sha256(row.email.strip().lower().encode()).hexdigest()
        Suppression.objects.filter(pk=row.pk).update(email=row.email.strip().lower(), email_hash=digest)


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_webhook_endpoint_key")]

    operations = [
        migrations.AddField(
            model_name="suppression", name="email_hash", field=models.CharField(max_length=64, null=True)
        ),
        migrations.RunPython(fill_digests, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="suppression",
            name="email_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="suppression",
            name="email",
            field=models.EmailField(
                blank=True, help_text="Empty once the person is erased.", max_length=254, null=True, unique=True
            ),
        ),
    ]
