from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from churnapp.roles import Role

ROLE_NAMES = {role.name.lower(): role for role in Role}


class Command(BaseCommand):
    help = "Create a user with a role: manage.py create_user --role csm --email ana@example.com --password …"

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, choices=sorted(ROLE_NAMES))
        parser.add_argument("--email", required=True)
        parser.add_argument("--username", help="Defaults to the e-mail address.")
        parser.add_argument("--password", help="Prompted for when omitted and a terminal is attached.")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    @transaction.atomic
    def handle(self, *args, role, email, username, password, first_name, last_name, **options):
        User = get_user_model()
        username = username or email
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        if not password:
            raise CommandError("Give --password (no password prompt in non-interactive use).")
        user = User(username=username, email=email, first_name=first_name, last_name=last_name)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        user.set_password(password)
        role = ROLE_NAMES[role]
        user.is_staff = role == Role.ADMIN
        user.is_superuser = role == Role.ADMIN
        user.save()
        user.groups.add(Group.objects.get(name=role.value))
        self.stdout.write(self.style.SUCCESS(f"Created {role.value} {username}."))
