"""The /api/v1/ router: each app registers its viewsets here."""

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

api_urlpatterns = router.urls
