"""`manage.py winback_refresh_page_facts`: recompute the win-back overview and Feedback pages' stored figures now."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from winback import services


class Command(BaseCommand):
    help = "Recompute the figures the win-back overview and Feedback pages read (what the worker does after writes)."

    def handle(self, *args, **options) -> None:
        computed = services.page_facts_refresh()
        self.stdout.write(f"Page facts refreshed: {', '.join(sorted(computed))}.")
