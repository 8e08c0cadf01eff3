"""Export everything held about a contact or an account as one JSON bundle (a data-subject access request).

    manage.py export_personal_data contact <id|email> [--output FILE]
    manage.py export_personal_data account <id|external_id> [--output FILE]

The bundle is streamed to FILE (or standard output): an account's millions of events never sit in memory.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from privacy import selectors
from privacy.management.commands._common import add_subject_arguments, subject_object


class Command(BaseCommand):
    help = "Write the JSON bundle of everything held about a contact or an account."

    def add_arguments(self, parser):
        add_subject_arguments(parser)
        parser.add_argument("--output", "-o", help="The file to write (default: standard output).")

    def handle(self, *args, kind: str, ident: str, output: str | None = None, **options):
        subject = selectors.subject_for(subject_object(kind, ident))
        if output is None:
            for chunk in selectors.export_chunks(subject):
                self.stdout.write(chunk, ending="")
            return
        with open(output, "w", encoding="utf-8") as target:
            for chunk in selectors.export_chunks(subject):
                target.write(chunk)
        self.stderr.write(f"Wrote {output}.")
