"""How the platform's Celery tasks survive failure, spelled out once for every app's tasks.

- `ACKS_LATE`: the message is acknowledged when the task ends, so a worker killed mid-task leaves it to be
  redelivered to another (every task is idempotent, so running it twice is harmless).
- `RETRY_ON_DATABASE`: that, and a task that lost its database connection (a restart, a failover) retries with
  backoff, three times, before it fails and its sweep picks the work up later.
- `RETRY_ON_NETWORK`: that, and a call to another service (Slack) retries its network failures with backoff,
  five times.

The settings make late acknowledgement the default too; the policies say it where the task is declared.
"""

from __future__ import annotations

from django.db import OperationalError

ACKS_LATE: dict = {"acks_late": True, "reject_on_worker_lost": True}
RETRY_ON_DATABASE: dict = {**ACKS_LATE, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 3}
RETRY_ON_NETWORK: dict = {
    **ACKS_LATE,
    "autoretry_for": (RuntimeError, OSError),
    "retry_backoff": True,
    "max_retries": 5,
}
