"""A task for the fault tests (loaded by their workers with --include): it records each start and its end in a
file, so a test sees how often and when it ran."""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, queue="default", soft_time_limit=600, time_limit=660)
def slow_mark(path: str, seconds: float) -> None:
    out = Path(path)
    with out.open("a") as f:
        f.write(f"start {os.getpid()} {time.time():.1f}\n")
    time.sleep(seconds)
    with out.open("a") as f:
        f.write(f"done {os.getpid()} {time.time():.1f}\n")
