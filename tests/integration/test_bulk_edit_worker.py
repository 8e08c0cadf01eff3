"""A bulk edit too large for the request runs in a real Celery worker on PostgreSQL, chunk by chunk, audited."""

from __future__ import annotations

import pytest

from accounts.models import Account, AccountStatus, Activity, BulkEdit, BulkEditStatus
from accounts.services import bulk_edits
from tests.factories import UserFactory

pytestmark = pytest.mark.integration


def test_a_large_bulk_edit_runs_in_the_worker_with_progress(celery_worker_process, wait_for, settings):
    settings.BULK_EDIT_INLINE_LIMIT = 100
    manager = UserFactory(username="mia", role="Manager")
    Account.objects.bulk_create([Account(external_id=f"bulk-{i}", name=f"Bulk {i}") for i in range(1_200)])
    job = bulk_edits.bulk_edit_prepare(
        actor=manager, action="status", value="at_risk", scope="matching", query="", accounts=Account.objects.all()
    )
    job = bulk_edits.bulk_edit_confirm(job=job, actor=manager)
    assert job.status == BulkEditStatus.QUEUED  # handed to the worker, not run in the request

    wait_for(lambda: BulkEdit.objects.get(pk=job.pk).status == BulkEditStatus.DONE, message="the bulk edit")
    job.refresh_from_db()
    assert (job.processed, job.changed, job.unchanged, job.attempts) == (1_200, 1_200, 0, 1)
    assert Account.objects.filter(status=AccountStatus.AT_RISK).count() == 1_200
    entries = Activity.objects.filter(kind="change", author=manager, details__field="status")
    assert entries.count() == 1_200 and entries.values("account_id").distinct().count() == 1_200
    assert celery_worker_process.poll() is None
