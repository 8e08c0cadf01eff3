"""Install the built-in email templates, example rules, playbooks and journeys (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from automations.builtins import builtins_install


class Command(BaseCommand):
    help = "Install the built-in email templates, example automation rules, playbooks and journeys (missing ones)."

    def add_arguments(self, parser):
        parser.add_argument("--enable-rules", action="store_true", help="Install the example rules enabled.")

    def handle(self, *args, enable_rules: bool = False, **options):
        counts = builtins_install(enable_rules=enable_rules)
        self.stdout.write(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()) + " installed.")
