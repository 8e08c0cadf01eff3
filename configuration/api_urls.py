"""The configuration API, `/api/v1/config/…`: every configuration object, for `config` (or `admin`) API keys and
signed-in users (reads for every role, writes for managers and admins; webhook endpoints for admins)."""

from rest_framework.routers import SimpleRouter

from configuration.api.automations import JourneyViewSet, PlaybookViewSet, RuleViewSet
from configuration.api.health import HealthProfileViewSet
from configuration.api.messaging import EmailTemplateViewSet, WebhookEndpointViewSet
from configuration.api.surveys import GoalViewSet, IssueRouteViewSet, SurveyScheduleViewSet

app_name = "config-api"

router = SimpleRouter()
router.register("rules", RuleViewSet, basename="rule")
router.register("playbooks", PlaybookViewSet, basename="playbook")
router.register("journeys", JourneyViewSet, basename="journey")
router.register("health-profiles", HealthProfileViewSet, basename="health-profile")
router.register("email-templates", EmailTemplateViewSet, basename="email-template")
router.register("survey-schedules", SurveyScheduleViewSet, basename="survey-schedule")
router.register("goals", GoalViewSet, basename="goal")
router.register("issue-routes", IssueRouteViewSet, basename="issue-route")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = router.urls
