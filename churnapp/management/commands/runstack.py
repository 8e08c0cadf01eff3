from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web app with a Celery worker and beat beside it (the `make run` stack). Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, port, host, **options):
        for folder in ("out", "control", "processed"):
            (settings.CELERY_QUEUE_DIR / folder).mkdir(parents=True, exist_ok=True)
        python = sys.executable
        worker_cmd = [
            python, "-m", "celery", "-A", "churnapp", "worker", "-B", "--pool=solo", "--loglevel=INFO",
            "-Q", "default,ingest,scoring,email",
        ]  # fmt: skip
        web_cmd = [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]
        procs = [subprocess.Popen(worker_cmd), subprocess.Popen(web_cmd)]
        self.stdout.write(self.style.SUCCESS(f"\n  churnapp is running at http://{host}:{port}/  (Ctrl-C stops it)\n"))
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
