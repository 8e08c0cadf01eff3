"""Data migration: the default health profile (green >= 70, yellow 40-69, red < 40), version 1 published."""

from django.db import migrations
from django.utils import timezone

FACTORS = [
    {'key': 'active_days_30', 'weight': 20, 'method': 'thresholds', 'points': [[0, 0], [4, 30], [12, 70], [20, 100]]},
    {'key': 'days_since_meaningful', 'weight': 15, 'method': 'thresholds', 'points': [[0, 100], [7, 80], [14, 50], [30, 0]]},
    {'key': 'feature_breadth', 'weight': 10, 'method': 'thresholds', 'points': [[0, 0], [1, 30], [3, 70], [5, 100]]},
    {'key': 'seat_depth', 'weight': 10, 'method': 'thresholds', 'points': [[0, 0], [0.3, 40], [0.7, 90], [1, 100]]},
    {'key': 'usage_trend', 'weight': 10, 'method': 'thresholds', 'points': [[-0.6, 0], [-0.2, 50], [0, 75], [0.2, 100]]},
    {'key': 'tickets_30d', 'weight': 8, 'method': 'thresholds', 'points': [[0, 100], [2, 60], [5, 0]]},
    {'key': 'oldest_open_ticket_days', 'weight': 5, 'method': 'thresholds', 'points': [[0, 100], [5, 60], [14, 0]]},
    {'key': 'nps', 'weight': 8, 'method': 'thresholds', 'points': [[0, 0], [6, 30], [8, 70], [10, 100]]},
    {'key': 'csat', 'weight': 4, 'method': 'thresholds', 'points': [[1, 0], [3, 50], [5, 100]]},
    {'key': 'payment_failures_60d', 'weight': 5, 'method': 'thresholds', 'points': [[0, 100], [1, 40], [3, 0]]},
    {'key': 'value_per_dollar', 'weight': 5, 'method': 'percentile', 'higher_is_better': True},
    {'key': 'csm_sentiment', 'weight': 5, 'method': 'thresholds', 'points': [[1, 0], [3, 50], [5, 100]]},
]


def create_default_profile(apps, schema_editor):
    HealthProfile = apps.get_model("health", "HealthProfile")
    HealthProfileVersion = apps.get_model("health", "HealthProfileVersion")
    profile, created = HealthProfile.objects.get_or_create(segment="", defaults={"name": "Default"})
    if created or not profile.versions.exists():
        HealthProfileVersion.objects.create(
            profile=profile,
            number=1,
            status="published",
            factors=FACTORS,
            green_min=70,
            yellow_min=40,
            note="Default profile",
            published_at=timezone.now(),
        )


def remove_default_profile(apps, schema_editor):
    apps.get_model("health", "HealthProfile").objects.filter(segment="", name="Default").delete()


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]

    operations = [migrations.RunPython(create_default_profile, remove_default_profile)]
