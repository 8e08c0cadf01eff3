from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from churnapp.roles import Role


class Command(BaseCommand):
    help = "First start: create an admin login if there is none, and fill an empty database with demo data."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=int(os.environ.get("DEMO_ACCOUNTS", 300)))
        parser.add_argument("--months", type=int, default=int(os.environ.get("DEMO_MONTHS", 18)))
        parser.add_argument("--no-demo", action="store_true", help="Do not create demo data.")

    def handle(self, *args, accounts, months, no_demo, **options):
        User = get_user_model()
        if not User.objects.filter(is_superuser=True).exists():
            username = os.environ.get("ADMIN_USERNAME", "admin")
            password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            admin = User.objects.create_superuser(
                username=username, email=os.environ.get("ADMIN_EMAIL", "admin@example.com"), password=password
            )
            admin.groups.add(Group.objects.get(name=Role.ADMIN.value))
            shown = password if "ADMIN_PASSWORD" not in os.environ else "(from ADMIN_PASSWORD)"
            self.stdout.write(self.style.WARNING(f"Admin login created — user: {username}  password: {shown}"))
            self.stdout.write("This password is shown once; change it under Account → Password.")
        if not no_demo and not Account.objects.exists():
            self.stdout.write(f"Creating demo data: {accounts} accounts over {months} months…")
            call_command("simulate", accounts=accounts, months=months, seed=42, stdout=self.stdout)
            self._derive_state()

    def _derive_state(self) -> None:
        """What the workers would compute over time, done once so the demo opens fully populated."""
        steps = [
            ("refresh_snapshots", {}),
            ("rebuild_rollups", {}),
            ("recompute_health", {"backfill_days": 90}),
            ("train_churn_model", {"months": 12, "predict": True}),
            ("winback_backfill", {}),
            ("automations_install_builtins", {}),
            ("refresh_kpi_facts", {}),
        ]
        for name, options in steps:
            self.stdout.write(f"→ {name}")
            try:
                call_command(name, stdout=self.stdout, **options)
            except CommandError as exc:
                # A step that cannot run on this data (e.g. too little history to train) is reported, not fatal.
                self.stdout.write(self.style.WARNING(f"  skipped: {exc}"))
