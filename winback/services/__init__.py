"""Writes of the win-back domain; views, API, tasks and commands call these."""

from winback.services.campaigns import (
    campaign_create,
    campaign_enroll,
    campaign_send,
    csm_reminders_create,
    release_note_create,
    release_note_publish,
    reminder_days,
    suppression_add,
    touchpoints_sync_responses,
)
from winback.services.churn import (
    account_cancel,
    account_pause,
    churn_capture_from_stripe_event,
    churn_capture_from_subscriptions,
    churn_capture_from_webhooks,
    churn_record_create,
    reactivations_detect,
)
from winback.services.dunning import card_expiry_reminders_send, dunning_run
from winback.services.follow_ups import (
    follow_ups_remind_overdue,
    issue_route_set,
    response_follow_up,
    response_route,
    responses_route_new,
)
from winback.services.page_figures import page_facts_refresh, page_facts_refresh_soon
from winback.services.surveys import (
    SurveyTokenError,
    invitation_for_token,
    segment_history_sync,
    survey_answer,
    survey_invite,
    survey_reminders_send,
    survey_schedules_run,
)
from winback.services.themes import cluster_name, loop_message_send, themes_cluster, themes_tag_responses

__all__ = [
    "SurveyTokenError",
    "account_cancel",
    "account_pause",
    "campaign_create",
    "campaign_enroll",
    "campaign_send",
    "card_expiry_reminders_send",
    "churn_capture_from_stripe_event",
    "churn_capture_from_subscriptions",
    "churn_capture_from_webhooks",
    "churn_record_create",
    "cluster_name",
    "csm_reminders_create",
    "dunning_run",
    "follow_ups_remind_overdue",
    "invitation_for_token",
    "issue_route_set",
    "page_facts_refresh",
    "page_facts_refresh_soon",
    "loop_message_send",
    "reactivations_detect",
    "release_note_create",
    "release_note_publish",
    "reminder_days",
    "response_follow_up",
    "response_route",
    "responses_route_new",
    "suppression_add",
    "survey_answer",
    "survey_invite",
    "survey_reminders_send",
    "segment_history_sync",
    "survey_schedules_run",
    "themes_cluster",
    "themes_tag_responses",
    "touchpoints_sync_responses",
]
