"""Compile every catalogue (`locale/<lang>/LC_MESSAGES/django.po` of the project and of each app) into the `.mo`
file Django reads, with Babel: no GNU gettext needed on the machine. A `.mo` newer than its `.po` is left alone.

    python manage.py compile_translations [--force]
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogue_dirs() -> list[Path]:
    """The project's locale folders, then each of the project's own apps' (those under BASE_DIR)."""
    base = Path(settings.BASE_DIR).resolve()
    dirs = [Path(p) for p in settings.LOCALE_PATHS]
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and ".venv" not in path.parts:
            dirs.append(path / "locale")
    return [d for d in dirs if d.is_dir()]


class Command(BaseCommand):
    help = "Compile the project's and its apps' .po catalogues into .mo files (Babel)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Compile even where the .mo is up to date.")

    def handle(self, *args, force: bool = False, **options):
        compiled = 0
        for folder in catalogue_dirs():
            for po in sorted(folder.glob("*/LC_MESSAGES/*.po")):
                mo = po.with_suffix(".mo")
                if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                    continue
                with po.open("rb") as source:
                    catalog = read_po(source, locale=po.parent.parent.name)
                fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
                if fuzzy:
                    raise CommandError(f"{po}: {len(fuzzy)} fuzzy translation(s), e.g. {fuzzy[0]!r}: review them.")
                with mo.open("wb") as target:
                    write_mo(target, catalog)
                compiled += 1
        self.stdout.write(f"Compiled {compiled} catalogue(s).")
