"""Apply every journey to its accounts and detect reached and missed milestones, as the periodic task does."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from automations.journeys import journeys_refresh


class Command(BaseCommand):
    help = "Enroll accounts on their journeys and mark reached and missed milestones (as beat does)."

    def handle(self, *args, **options):
        counts = journeys_refresh()
        self.stdout.write(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()) + ".")
