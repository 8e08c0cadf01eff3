from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web app with a Celery worker and beat beside it (the `make run` stack). Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="Migrate and bootstrap (admin, demo data, derived steps) first, in this process: one start-up of "
            "Django instead of three, so a later `make run` serves sooner.",
        )

    def handle(self, *args, port, host, prepare, **options):
        if prepare:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("bootstrap", stdout=self.stdout)
        # Ctrl-C and SIGTERM (a process manager) stop the whole stack. SIGINT is set explicitly: a shell that
        # starts `make run` in the background leaves it ignored, and Ctrl-C sent to the group must still work.
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        python = sys.executable
        worker_cmd = [
            python, "-m", "celery", "-A", "churnapp", "worker", "-B", "--pool=solo", "--loglevel=INFO",
            "-Q", "default,ingest,scoring,email",
        ]  # fmt: skip
        # The system checks ran with migrate already; the server need not run them again before its first page.
        web_cmd = [python, "manage.py", "runserver", f"{host}:{port}", "--noreload", "--skip-checks"]
        # Each child leads its own process group, so stopping it also stops what it started (beat under the worker).
        procs = [subprocess.Popen(cmd, start_new_session=True) for cmd in (worker_cmd, web_cmd)]
        try:
            self._announce_when_serving(host, port, procs)
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stdout.write("Stopping web, worker and beat…")
            self.stdout.flush()
            for p in procs:
                _signal_group(p, signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
                _signal_group(p, signal.SIGKILL)

    def _announce_when_serving(self, host: str, port: int, procs: list[subprocess.Popen]) -> None:
        """Print the address once the first page answers, with the seconds since `make run` started."""
        url = f"http://{host}:{port}/login/"
        while all(p.poll() is None for p in procs):
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        else:
            return
        started = os.environ.get("CHURNAPP_STARTED_AT")
        since = f" ({time.time() - int(started):.0f} s after make run started)" if started else ""
        self.stdout.write(
            self.style.SUCCESS(f"\n  churnapp is running at http://{host}:{port}/{since}  (Ctrl-C stops it)\n")
        )


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        pass
