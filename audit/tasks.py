from __future__ import annotations

from celery import shared_task

from audit import services
from churnapp.queues import Queue
from churnapp.taskpolicy import RETRY_ON_DATABASE


@shared_task(**RETRY_ON_DATABASE, queue=Queue.DEFAULT.value, soft_time_limit=600, time_limit=660)
def purge_expired_entries() -> int:
    """Nightly: remove audit entries past the retention period."""
    return services.purge_expired()
