"""First start: an admin login, demo data and everything the workers would have derived from it.

Each derived step records in `SetupStep` that it completed. A later run (every `make run` calls this command)
runs whatever is missing, so a first start that was interrupted — Ctrl-C, a crash, a full disk — still ends in a
complete demo; a step that fails is reported and retried next time without stopping the others.
"""

from __future__ import annotations

import os
import secrets
import time
import traceback
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import Account
from churnapp.models import SetupStep
from churnapp.roles import Role

DEMO_VIEWER = "viewer.vic"


@dataclass(frozen=True)
class Step:
    """A management command that derives state from the facts, as a worker would over time."""

    command: str
    options: dict = field(default_factory=dict)


# In dependency order: each step reads what the ones before it wrote.
DERIVED_STEPS = (
    Step("refresh_snapshots"),
    Step("rebuild_rollups"),
    Step("recompute_health", {"backfill_days": 90}),
    Step("train_churn_model", {"months": 12, "predict": True}),
    Step("winback_backfill"),
    Step("automations_install_builtins"),
    # Before the facts: the onboarding funnel counts journey enrollments, which beat would only make later.
    Step("automations_refresh_journeys"),
    Step("refresh_kpi_facts"),
    Step("winback_refresh_page_facts"),
)


class Command(BaseCommand):
    help = (
        "First start: create an admin login if there is none, fill an empty database with demo data, and run every "
        "derived step (snapshots, rollups, health, model, win-back, built-in automations, KPI facts) not yet done."
    )

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=int(os.environ.get("DEMO_ACCOUNTS", 300)))
        parser.add_argument("--months", type=int, default=int(os.environ.get("DEMO_MONTHS", 18)))
        parser.add_argument("--no-demo", action="store_true", help="Do not create demo data.")
        parser.add_argument(
            "--reset-demo",
            action="store_true",
            help="Delete every row in the database (users included) and build the demo again from scratch.",
        )

    def handle(self, *args, accounts: int, months: int, no_demo: bool, reset_demo: bool, **options):
        started = time.monotonic()
        if reset_demo:
            self.stdout.write(self.style.WARNING("Deleting all data to rebuild the demo…"))
            # Sequences keep counting (ids of the old demo are never reused, so stale links cannot point at new rows).
            call_command("flush", interactive=False, verbosity=0, reset_sequences=False)
        self._ensure_admin()
        if not no_demo and not Account.objects.exists():
            self.stdout.write(f"Creating demo data: {accounts} accounts over {months} months…")
            SetupStep.objects.filter(name__in=[s.command for s in DERIVED_STEPS]).delete()
            call_command("simulate", accounts=accounts, months=months, seed=42, stdout=self.stdout)
            self._ensure_demo_viewer()
        self._set_demo_passwords()
        if Account.objects.exists():
            failed = self._derive_state()
            if failed:
                self.stdout.write(
                    self.style.ERROR(
                        f"{len(failed)} step(s) failed: {', '.join(failed)}. The app starts anyway; "
                        "the next `make run` (or `manage.py bootstrap`) tries them again."
                    )
                )
        self.stdout.write(f"Bootstrap finished in {time.monotonic() - started:.0f} s.")

    def _ensure_admin(self) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        username = os.environ.get("ADMIN_USERNAME", "admin")
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        admin = User.objects.create_superuser(
            username=username, email=os.environ.get("ADMIN_EMAIL", "admin@example.com"), password=password
        )
        admin.groups.add(Group.objects.get(name=Role.ADMIN.value))
        shown = password if "ADMIN_PASSWORD" not in os.environ else "(from ADMIN_PASSWORD)"
        self.stdout.write(self.style.WARNING(f"Admin login created — user: {username}  password: {shown}"))
        self.stdout.write("This password is shown once; change it under Change password.")

    def _ensure_demo_viewer(self) -> None:
        """A read-only colleague, so every role of the product can be tried on the demo."""
        User = get_user_model()
        viewer, created = User.objects.get_or_create(
            username=DEMO_VIEWER,
            defaults={"first_name": "Vic", "last_name": "Moreau", "email": f"{DEMO_VIEWER}@churnapp.example"},
        )
        if created:
            viewer.set_unusable_password()
            viewer.save(update_fields=["password"])
        viewer.groups.add(Group.objects.get(name=Role.VIEWER.value))

    def _set_demo_passwords(self) -> None:
        """With DEMO_PASSWORD set, every demo user without a password (CSMs, manager, viewer) gets that one."""
        password = os.environ.get("DEMO_PASSWORD")
        if not password:
            return
        User = get_user_model()
        demo_users = User.objects.filter(is_superuser=False, username__regex=r"^(csm|manager|viewer)\.")
        updated = 0
        for user in demo_users:
            if not user.has_usable_password():
                user.set_password(password)
                user.save(update_fields=["password"])
                updated += 1
        if updated:
            self.stdout.write(f"Demo users can log in with DEMO_PASSWORD ({updated} users).")

    def _derive_state(self) -> list[str]:
        """Run every step not completed yet; report failures without stopping. Returns the failed step names."""
        done = set(SetupStep.objects.filter(completed_at__isnull=False).values_list("name", flat=True))
        failed = []
        for step in DERIVED_STEPS:
            if step.command in done:
                continue
            self.stdout.write(f"→ {step.command}")
            started = time.monotonic()
            try:
                call_command(step.command, stdout=self.stdout, **step.options)
            except Exception as exc:  # noqa: BLE001 — any failure is reported, the other steps still run
                self.stdout.write(self.style.ERROR(f"  failed: {exc}"))
                SetupStep.objects.update_or_create(
                    name=step.command,
                    defaults={"completed_at": None, "last_error": traceback.format_exc()[-4000:]},
                )
                failed.append(step.command)
                continue
            SetupStep.objects.update_or_create(
                name=step.command,
                defaults={"completed_at": timezone.now(), "last_error": "", "seconds": time.monotonic() - started},
            )
        return failed
