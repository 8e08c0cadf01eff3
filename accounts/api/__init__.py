"""The accounts domain over the REST API (/api/v1/): viewsets registered by churnapp.api."""

from accounts.api.accounts import AccountSerializer, AccountViewSet
from accounts.api.resources import (
    ActivityViewSet,
    ContactViewSet,
    EventViewSet,
    SubscriptionViewSet,
    SurveyResponseViewSet,
    TagViewSet,
    TaskViewSet,
    TicketViewSet,
)

__all__ = [
    "AccountSerializer",
    "AccountViewSet",
    "ActivityViewSet",
    "ContactViewSet",
    "EventViewSet",
    "SubscriptionViewSet",
    "SurveyResponseViewSet",
    "TagViewSet",
    "TaskViewSet",
    "TicketViewSet",
]
