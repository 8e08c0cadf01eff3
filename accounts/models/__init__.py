"""The accounts app's models, one module per subject; every model is importable from `accounts.models` (Django
finds them here).
"""

from __future__ import annotations

from accounts.models.accounts import Account, AccountStatus, Contact, HealthBand, LifecycleStage, Segment, Tag
from accounts.models.activities import Activity, ActivityKind
from accounts.models.billing import BillingEvent, BillingEventKind
from accounts.models.bulk_edits import BulkEdit, BulkEditStatus
from accounts.models.imports import ImportJob, ImportKind, ImportRowError, ImportStatus
from accounts.models.saved_views import SavedView
from accounts.models.subscriptions import BillingPeriod, ExchangeRate, Subscription, SubscriptionStatus
from accounts.models.surveys import SurveyKind, SurveyResponse
from accounts.models.tasks import Task, TaskPriority, TaskSource, TaskStatus
from accounts.models.tickets import SupportTicket, TicketPriority, TicketStatus
from accounts.models.tracking import PendingMessage, TrackingAlias
from accounts.models.usage import UsageEvent
from accounts.models.webhooks import InboundWebhookEvent, InboundWebhookStatus

__all__ = [
    "Segment",
    "LifecycleStage",
    "AccountStatus",
    "HealthBand",
    "Tag",
    "Account",
    "Contact",
    "BillingPeriod",
    "SubscriptionStatus",
    "Subscription",
    "ExchangeRate",
    "UsageEvent",
    "TicketStatus",
    "TicketPriority",
    "SupportTicket",
    "SurveyKind",
    "SurveyResponse",
    "ActivityKind",
    "Activity",
    "TaskStatus",
    "TaskPriority",
    "TaskSource",
    "Task",
    "SavedView",
    "PendingMessage",
    "TrackingAlias",
    "ImportKind",
    "ImportStatus",
    "ImportJob",
    "ImportRowError",
    "InboundWebhookStatus",
    "InboundWebhookEvent",
    "BillingEventKind",
    "BillingEvent",
    "BulkEditStatus",
    "BulkEdit",
]
