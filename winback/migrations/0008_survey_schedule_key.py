from django.db import migrations, models
from django.utils.text import slugify


def fill_keys(apps, schema_editor):
    """Each existing schedule gets a slug from its name (-2, -3… on ties)."""
    SurveySchedule = apps.get_model("winback", "SurveySchedule")
    taken: set[str] = set()
    for schedule in SurveySchedule.objects.order_by("id"):
        base = (slugify(schedule.name) or "survey")[:94]
        key, n = base, 1
        while key in taken:
            n += 1
            key = f"{base}-{n}"
        taken.add(key)
        SurveySchedule.objects.filter(pk=schedule.pk).update(key=key)


class Migration(migrations.Migration):
    dependencies = [("winback", "0007_seeded_texts_in_installation_language")]

    operations = [
        migrations.AddField(
            model_name="surveyschedule", name="key", field=models.SlugField(max_length=100, null=True, db_index=False)
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="surveyschedule",
            name="key",
            field=models.SlugField(
                help_text="Stable identifier (configuration bundle, API).", max_length=100, unique=True
            ),
        ),
    ]
