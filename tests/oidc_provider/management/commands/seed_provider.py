"""Creates or updates the confidential client and the people of the test provider (idempotent)."""

from __future__ import annotations

import json

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from oauth2_provider.models import Application


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--client-id")
        parser.add_argument("--client-secret")
        parser.add_argument("--redirect-uri", action="append", default=[])
        parser.add_argument("--user", action="append", default=[], help='{"username": …, "password": …, '
                            '"email": …, "groups": [...], "active": true}')  # fmt: skip

    def handle(self, *args, client_id, client_secret, redirect_uri, user, **options):
        if client_id:
            app = Application.objects.filter(client_id=client_id).first() or Application(client_id=client_id)
            app.name = "churnapp"
            app.client_type = Application.CLIENT_CONFIDENTIAL
            app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
            app.algorithm = Application.RS256_ALGORITHM
            app.skip_authorization = True
            app.client_secret = client_secret
            known = set(app.redirect_uris.split())
            app.redirect_uris = " ".join(sorted(known | set(redirect_uri)))
            app.save()
        for spec in map(json.loads, user):
            person, _ = User.objects.get_or_create(username=spec["username"])
            person.email = spec.get("email", "")
            person.first_name = spec.get("first_name", "")
            person.last_name = spec.get("last_name", "")
            person.is_active = spec.get("active", True)
            if "password" in spec:
                person.set_password(spec["password"])
            person.save()
            person.groups.set([Group.objects.get_or_create(name=name)[0] for name in spec.get("groups", [])])
