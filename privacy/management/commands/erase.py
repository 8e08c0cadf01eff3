"""Erase a contact's or an account's personal data (a data-subject erasure request).

    manage.py erase contact <id|email> [--yes]
    manage.py erase account <id|external_id> [--yes]

Prints what would be scrubbed in each place and what is kept, then asks; `--yes` erases without asking.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from privacy import selectors, services
from privacy.management.commands._common import add_subject_arguments, subject_object

DOOR = "command"


class Command(BaseCommand):
    help = "Erase a contact's or an account's personal data everywhere it lives; aggregate facts stay."

    def add_arguments(self, parser):
        add_subject_arguments(parser)
        parser.add_argument("--yes", action="store_true", help="Erase without asking.")

    def handle(self, *args, kind: str, ident: str, yes: bool = False, **options):
        obj = subject_object(kind, ident)
        subject = selectors.subject_for(obj)
        self.stdout.write(f"Erasure of {subject.kind} {subject.pk} ({subject.label}), account {subject.account.pk}:")
        for row in selectors.erasure_plan(subject):
            if row.count:
                self.stdout.write(f"  {row.place.key:32} {row.count:>9}  {row.place.erasure}")
        self.stdout.write("Kept:")
        for line in services.KEPT:
            self.stdout.write(f"  - {line}")
        if not yes and not self._confirmed():
            raise CommandError("Nothing erased.")
        erase = services.erase_contact if kind == selectors.CONTACT else services.erase_account
        try:
            summary = erase(**{kind: obj}, actor=None, door=DOOR)
        except services.ErasureRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Erased: {summary.rows} rows in {summary.places} places."))
        for place, count in summary.counts.items():
            if count:
                self.stdout.write(f"  {place:32} {count:>9}")

    def _confirmed(self) -> bool:
        try:
            answer = input("Erase? This cannot be undone. [y/N] ")
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")
