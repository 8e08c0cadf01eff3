"""The /api/v1/ router: each app registers its viewsets here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import (
    AccountViewSet,
    ActivityViewSet,
    ContactViewSet,
    EventViewSet,
    SubscriptionViewSet,
    SurveyResponseViewSet,
    TagViewSet,
    TaskViewSet,
    TicketViewSet,
)
from accounts.api.bulk_edits import BulkEditViewSet
from accounts.api.search import SearchApi
from audit.api import AuditEntryViewSet
from automations.backtest_api import RuleBacktestApi
from health.api import (
    ChurnModelViewSet,
    ChurnPredictionViewSet,
    HealthProfileVersionViewSet,
    HealthSnapshotViewSet,
)
from winback.api import CampaignViewSet as WinbackCampaignViewSet
from winback.api import ChurnReasonViewSet, ChurnRecordViewSet, PauseViewSet, SurveyInvitationViewSet

router = DefaultRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("events", EventViewSet, basename="event")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("survey-responses", SurveyResponseViewSet, basename="survey-response")
router.register("activities", ActivityViewSet, basename="activity")
router.register("tasks", TaskViewSet, basename="task")
router.register("tags", TagViewSet, basename="tag")
router.register("bulk-edits", BulkEditViewSet, basename="bulk-edit")
router.register("health-snapshots", HealthSnapshotViewSet, basename="health-snapshot")
router.register("health-profile-versions", HealthProfileVersionViewSet, basename="health-profile-version")
router.register("churn-models", ChurnModelViewSet, basename="churn-model")
router.register("churn-predictions", ChurnPredictionViewSet, basename="churn-prediction")
router.register("winback/reasons", ChurnReasonViewSet, basename="churn-reason")
router.register("winback/churn-records", ChurnRecordViewSet, basename="churn-record")
router.register("winback/pauses", PauseViewSet, basename="winback-pause")
router.register("winback/campaigns", WinbackCampaignViewSet, basename="winback-campaign")
router.register("winback/survey-invitations", SurveyInvitationViewSet, basename="survey-invitation")
router.register("audit-entries", AuditEntryViewSet, basename="audit-entry")

api_urlpatterns = [
    path("search/", SearchApi.as_view(), name="search"),
    path("rule-backtests/", RuleBacktestApi.as_view(), name="rule-backtest"),
    *router.urls,
]
