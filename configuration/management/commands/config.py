"""`manage.py config export [--output FILE]` writes the configuration bundle (YAML) to stdout or a file;
`manage.py config apply FILE [--plan] [--prune]` shows what applying a bundle would change and applies it, all or
nothing. `--plan` only prints the plan; `--prune` also deletes what the file leaves out. `-` reads stdin."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.models import Door
from configuration import bundle


class Command(BaseCommand):
    help = "Export or apply the configuration bundle (configuration as code)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write every configuration object as YAML.")
        export.add_argument("--output", "-o", help="Write to this file instead of stdout.")
        apply = sub.add_parser("apply", help="Apply a bundle (YAML or JSON), all or nothing.")
        apply.add_argument("file", help="The bundle file; - reads stdin.")
        apply.add_argument("--plan", action="store_true", help="Print what would change; apply nothing.")
        apply.add_argument("--prune", action="store_true", help="Delete objects the file leaves out.")

    def handle(self, *args, **options) -> None:
        if options["action"] == "export":
            text = bundle.dump(bundle.export_bundle())
            if options.get("output"):
                Path(options["output"]).write_text(text, encoding="utf-8")
                self.stdout.write(f"Wrote {options['output']}.")
            else:
                self.stdout.write(text, ending="")
            return
        path = options["file"]
        try:
            raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            data = bundle.parse(raw)
            if options["plan"]:
                self.stdout.write(bundle.render(bundle.plan(data, prune=options["prune"])), ending="")
                return
            result = bundle.apply(data, prune=options["prune"], door=Door.COMMAND)
        except bundle.BundleInvalid as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(bundle.render(result, applied=True), ending="")
