"""Writes of the accounts domain. Views, API, tasks and commands call these; nothing else writes accounts.

One module per subject; the public services are re-exported here, so `from accounts.services import x` works.
"""

from __future__ import annotations

from accounts.services.accounts import (
    account_add_tag,
    account_assign_owner,
    account_remove_tag,
    account_set_lifecycle_stage,
    account_set_status,
)
from accounts.services.activities import activity_create, activity_ensure_editable, changes_record
from accounts.services.bulk import (
    accounts_add_tag_bulk,
    accounts_remove_tag_bulk,
    accounts_set_lifecycle_stage_bulk,
    accounts_set_status_bulk,
    tasks_create_bulk,
)
from accounts.services.contacts import contact_unsubscribe
from accounts.services.health_cache import HEALTH_FIELDS, account_set_health_bulk
from accounts.services.saved_views import saved_view_create, saved_view_delete
from accounts.services.snapshots import account_refresh_snapshots
from accounts.services.subscriptions import subscriptions_cancel, subscriptions_pause, subscriptions_resume
from accounts.services.surveys import survey_response_create
from accounts.services.tasks import task_complete, task_create, task_webhook_payload

__all__ = [
    "activity_ensure_editable",
    "account_set_status",
    "account_assign_owner",
    "activity_create",
    "changes_record",
    "task_create",
    "task_webhook_payload",
    "task_complete",
    "saved_view_create",
    "saved_view_delete",
    "account_refresh_snapshots",
    "HEALTH_FIELDS",
    "account_set_health_bulk",
    "contact_unsubscribe",
    "survey_response_create",
    "account_add_tag",
    "subscriptions_cancel",
    "subscriptions_pause",
    "subscriptions_resume",
    "account_remove_tag",
    "account_set_lifecycle_stage",
    "tasks_create_bulk",
    "accounts_set_status_bulk",
    "accounts_set_lifecycle_stage_bulk",
    "accounts_add_tag_bulk",
    "accounts_remove_tag_bulk",
]
