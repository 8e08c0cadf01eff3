"""Default churn-reason taxonomy, keyword themes and survey schedules (all editable afterwards)."""

from django.db import migrations

TAXONOMY = [
    # (code, label, parent code, involuntary)
    ("price", "Price", None, False),
    ("product", "Product", None, False),
    ("missing_feature", "Missing feature", "product", False),
    ("missing_integration", "Missing integration", "product", False),
    ("product_fit", "Product fit", "product", False),
    ("competitor", "Competitor", None, False),
    ("service", "Service", None, False),
    ("support", "Support", "service", False),
    ("onboarding", "Onboarding", "service", False),
    ("business_closed", "Business closed", None, False),
    ("payment_failure", "Payment failure", None, True),
    ("other", "Other", None, False),
]

THEMES = [
    ("Pricing", "price, expensive, cost, pricing, justify, value"),
    ("Integrations", "integration, salesforce, shopify, zapier, sync, api"),
    ("Support", "support, ticket, answer, help desk, closed without"),
    ("Onboarding", "onboarding, setup, set up, confusing, nobody helped"),
    ("Features", "feature, missing, a/b, report, editor, limited"),
]

SCHEDULES = [
    # (name, kind, trigger, offset days)
    ("NPS 90 days after start", "nps", "days_after_start", 90),
    ("NPS 60 days before renewal", "nps", "days_before_renewal", 60),
    ("CSAT after a resolved ticket", "csat", "ticket_resolved", 0),
]


def forwards(apps, schema_editor):
    ChurnReason = apps.get_model("winback", "ChurnReason")
    Theme = apps.get_model("winback", "Theme")
    SurveySchedule = apps.get_model("winback", "SurveySchedule")
    by_code = {}
    for position, (code, label, parent, involuntary) in enumerate(TAXONOMY):
        by_code[code], _ = ChurnReason.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "parent": by_code.get(parent),
                "is_involuntary": involuntary,
                "position": position,
            },
        )
    for name, keywords in THEMES:
        Theme.objects.get_or_create(name=name, defaults={"keywords": keywords})
    for name, kind, trigger, offset in SCHEDULES:
        if not SurveySchedule.objects.filter(name=name).exists():
            SurveySchedule.objects.create(name=name, kind=kind, trigger=trigger, offset_days=offset)


class Migration(migrations.Migration):
    dependencies = [("winback", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
