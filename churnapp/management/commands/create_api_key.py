from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from churnapp.apikeys import api_key_create
from churnapp.models import ApiScope


class Command(BaseCommand):
    help = "Create an API key and print its secret once: manage.py create_api_key --name Segment --scope ingest"

    def add_arguments(self, parser):
        parser.add_argument(
            "--name", help="What the key is for (shown in the API keys page). Default: the scopes and today's date."
        )
        parser.add_argument(
            "--scope", action="append", required=True, choices=ApiScope.values, help="Repeat for several scopes."
        )

    def handle(self, *args, name: str | None, scope: list[str], **options):
        name = name or f"{' + '.join(scope)} key of {timezone.localdate():%Y-%m-%d}"
        try:
            key, secret = api_key_create(name=name, scopes=scope)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Created API key {key.name!r} with scopes {', '.join(key.scopes)}. Store it now:")
        self.stdout.write(secret)
