"""The texts migrations 0002 and 0003 seeded in English (churn-reason labels, keyword-theme names, survey-schedule
names, customer email templates) are written in the installation's language (`settings.LANGUAGE_CODE`).

Only what is still exactly the English seed changes, so what a manager edited is kept; with English nothing changes.
Codes, template keys and theme keywords (matched against the words of customers' comments) stay as they are.
"""

from django.conf import settings
from django.db import migrations
from django.utils import translation
from django.utils.translation import gettext

from winback.seeds import EMAIL_TEMPLATES, REASON_LABELS, SCHEDULE_NAMES, THEME_NAMES


def seeded_texts_translate(apps, schema_editor):
    with translation.override(settings.LANGUAGE_CODE):
        EmailTemplate = apps.get_model("messaging", "EmailTemplate")
        for key, (name, subject, body) in EMAIL_TEMPLATES.items():
            translated = {"name": gettext(name), "subject": gettext(subject), "body_text": gettext(body)}
            if translated == {"name": name, "subject": subject, "body_text": body}:
                continue
            EmailTemplate.objects.filter(key=key, name=name, subject=subject, body_text=body, body_html="").update(
                **translated
            )
        ChurnReason = apps.get_model("winback", "ChurnReason")
        for code, label in REASON_LABELS.items():
            if gettext(label) != label:
                ChurnReason.objects.filter(code=code, label=label).update(label=gettext(label))
        Theme = apps.get_model("winback", "Theme")
        for name in THEME_NAMES:
            # Theme names are unique: a theme a manager already named so keeps its name, the seeded one stays English.
            if gettext(name) != name and not Theme.objects.filter(name=gettext(name)).exists():
                Theme.objects.filter(name=name).update(name=gettext(name))
        SurveySchedule = apps.get_model("winback", "SurveySchedule")
        for name in SCHEDULE_NAMES:
            if gettext(name) != name:
                SurveySchedule.objects.filter(name=name).update(name=gettext(name))


class Migration(migrations.Migration):
    dependencies = [
        ("winback", "0006_page_facts"),
        ("messaging", "0001_initial"),  # EmailTemplate moved there
    ]

    operations = [migrations.RunPython(seeded_texts_translate, migrations.RunPython.noop)]
