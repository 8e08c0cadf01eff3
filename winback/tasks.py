"""Celery tasks of the win-back app: thin, idempotent wrappers around services (scheduled in churnapp/schedule.py)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from churnapp.taskpolicy import RETRY_ON_DATABASE
from winback import services
from winback.models import Campaign
from winback.services.page_figures import QUEUED_KEY, QUEUED_SECONDS

RETRY = RETRY_ON_DATABASE


@shared_task(**RETRY, soft_time_limit=600, time_limit=660)
def capture_churn() -> dict:
    """Churn records and reactivations from the last week of subscription changes and Stripe deliveries."""
    since = timezone.localdate() - dt.timedelta(days=7)
    result = services.churn_capture_from_subscriptions(since=since)
    result["stripe"] = services.churn_capture_from_webhooks()
    services.page_facts_refresh_soon()
    return result


@shared_task(**RETRY, soft_time_limit=600, time_limit=660)
def run_surveys() -> dict:
    """Invitations at lifecycle moments, reminders to non-responders, routing of answers from other sources,
    reminders of dissatisfied answers whose follow-up is overdue."""
    result = services.survey_schedules_run()
    result["reminders"] = services.survey_reminders_send()
    result["routed"] = services.responses_route_new()
    result["overdue_reminders"] = services.follow_ups_remind_overdue()
    services.page_facts_refresh_soon()
    return result


@shared_task(**RETRY, soft_time_limit=600, time_limit=660)
def daily_winback() -> dict:
    """CSM reminder tasks that fell due, keyword tagging of new comments, clicks on campaign emails."""
    result = {
        "reminders": services.csm_reminders_create(),
        "tagged": services.themes_tag_responses(),
        "responses": services.touchpoints_sync_responses(),
    }
    services.page_facts_refresh_soon()
    return result


@shared_task(**RETRY, soft_time_limit=300, time_limit=360)
def run_dunning() -> dict:
    result = services.dunning_run()
    services.page_facts_refresh_soon()
    return result


@shared_task(**RETRY, soft_time_limit=1800, time_limit=1900)
def cluster_comments(n_clusters: int = 6, method: str = "nmf") -> int:
    """Weekly clustering of the comments no theme caught; returns the run id."""
    return services.themes_cluster(n_clusters=n_clusters, method=method).pk


@shared_task(**RETRY, soft_time_limit=600, time_limit=660)
def send_campaign(campaign_id: int) -> dict:
    campaign = Campaign.objects.get(pk=campaign_id)
    services.campaign_enroll(campaign=campaign)
    return services.campaign_send(campaign=campaign)


@shared_task(**RETRY, soft_time_limit=300, time_limit=360)
def refresh_page_facts() -> dict:
    """The win-back overview and Feedback figures, stored for the pages (every 15 minutes and after writes)."""
    cache.delete(QUEUED_KEY)  # writes from now on queue the next refresh
    return {key: f"{at:%Y-%m-%d %H:%M:%S}" for key, at in services.page_facts_refresh().items()}


def page_facts_enqueue(_payload=None) -> None:
    """The `WINBACK_PAGES_STALE` hook (after commit): one refresh for a burst of writes."""
    if cache.add(QUEUED_KEY, 1, timeout=QUEUED_SECONDS):
        refresh_page_facts.apply_async()
