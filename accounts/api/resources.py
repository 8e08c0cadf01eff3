"""The accounts domain's child resources over the REST API: contacts, subscriptions, tickets, survey responses,
tags, tasks, activities (CRUD and bulk upsert) and usage events (read, plus bulk ingest)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from accounts import selectors
from accounts import serializers as s
from accounts.api import filters
from accounts.api.base import BULK_RESPONSES, BoundedJSONParser, CrudViewSet, UpsertViewSet, actor_of
from accounts.imports import services
from accounts.services.activities import activity_ensure_editable


def documented(input_serializer, output_serializer, *, upsert: bool = True, pending: bool = False):
    """Request and response bodies of the write operations (the output serializers are read-only). `pending`:
    a row of an unknown account is kept (202) and attached when the account appears."""
    created = {201: output_serializer, 200: output_serializer}
    if pending:
        created[202] = OpenApiResponse(s.PendingSerializer, description="Unknown account: kept until it appears.")
    writes = {
        "create": extend_schema(
            request=input_serializer,
            responses=created,
            description="Creates the record, or updates it when its natural key (external id) already exists.",
        ),
        "update": extend_schema(request=input_serializer, responses=output_serializer),
        "partial_update": extend_schema(request=input_serializer, responses=output_serializer),
        "bulk": extend_schema(
            request=input_serializer(many=True),
            responses=BULK_RESPONSES,
            description="Up to 1000 rows, all or nothing: one invalid row and nothing is written.",
        ),
    }
    if upsert:
        writes["by_external_id"] = extend_schema(request=input_serializer, responses=created)
    return extend_schema_view(**writes)


@documented(s.ContactInputSerializer, s.ContactSerializer)
class ContactViewSet(UpsertViewSet):
    """People at customer accounts. Upsert key: external_id, else (account, email)."""

    kind = "contacts"
    queryset = selectors.api_contacts()
    serializer_class = s.ContactSerializer
    input_serializer_class = s.ContactInputSerializer
    filterset_class = filters.ContactFilterSet
    ordering_fields = ["id", "name", "email", "created_at"]


@documented(s.SubscriptionInputSerializer, s.SubscriptionSerializer)
class SubscriptionViewSet(UpsertViewSet):
    """Subscribed products per term [start_date, end_date). Upsert key: external_id, else (account, product,
    start_date)."""

    kind = "subscriptions"
    queryset = selectors.api_subscriptions()
    serializer_class = s.SubscriptionSerializer
    input_serializer_class = s.SubscriptionInputSerializer
    filterset_class = filters.SubscriptionFilterSet
    ordering_fields = ["id", "start_date", "end_date", "mrr"]


@documented(s.TicketInputSerializer, s.TicketSerializer, pending=True)
class TicketViewSet(UpsertViewSet):
    """Helpdesk tickets. Upsert key: external_id (the helpdesk's ticket id). A ticket of an account not known yet
    is kept (202, or `pending` in a bulk result) and attached as soon as the account is created."""

    kind = "tickets"
    queryset = selectors.api_tickets()
    serializer_class = s.TicketSerializer
    input_serializer_class = s.TicketInputSerializer
    filterset_class = filters.TicketFilterSet
    ordering_fields = ["id", "opened_at", "resolved_at", "priority"]


@documented(s.SurveyResponseInputSerializer, s.SurveyResponseSerializer)
class SurveyResponseViewSet(UpsertViewSet):
    """NPS (0–10) and CSAT (1–5) answers. Upsert key: external_id, else (account, kind, responded_at)."""

    kind = "surveys"
    queryset = selectors.api_survey_responses()
    serializer_class = s.SurveyResponseSerializer
    input_serializer_class = s.SurveyResponseInputSerializer
    filterset_class = filters.SurveyResponseFilterSet
    ordering_fields = ["id", "responded_at", "score"]


@documented(s.TagInputSerializer, s.TagSerializer, upsert=False)
class TagViewSet(CrudViewSet):
    """Account labels. Upsert key: name."""

    kind = "tags"
    queryset = selectors.api_tags()
    serializer_class = s.TagSerializer
    input_serializer_class = s.TagInputSerializer
    filterset_class = filters.TagFilterSet
    ordering_fields = ["name", "id"]


@documented(s.TaskInputSerializer, s.TaskSerializer, upsert=False)
class TaskViewSet(CrudViewSet):
    """CSM tasks on accounts; unassigned new tasks go to the account owner."""

    kind = "tasks"
    queryset = selectors.api_tasks()
    serializer_class = s.TaskSerializer
    input_serializer_class = s.TaskInputSerializer
    filterset_class = filters.TaskFilterSet
    ordering_fields = ["id", "due_date", "created_at"]


@documented(s.ActivityInputSerializer, s.ActivitySerializer, upsert=False)
class ActivityViewSet(CrudViewSet):
    """Timeline entries: notes, calls, e-mails, meetings and audited changes."""

    kind = "activities"
    queryset = selectors.api_activities()
    serializer_class = s.ActivitySerializer
    input_serializer_class = s.ActivityInputSerializer
    filterset_class = filters.ActivityFilterSet
    ordering_fields = ["id", "occurred_at"]

    def _ensure_editable(self, *, delete: bool = False) -> None:
        try:
            activity_ensure_editable(activity=self.get_object(), actor=actor_of(self.request), delete=delete)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc

    def update(self, request, *args, **kwargs):
        self._ensure_editable()
        return super().update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        self._ensure_editable(delete=True)
        return super().destroy(request, *args, **kwargs)


class EventPagination(CursorPagination):
    ordering = "-id"
    page_size = 100


class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Usage events (append-only): read, and `POST bulk/` to ingest up to 1000 (de-duplicated by message_id)."""

    queryset = selectors.api_events()
    serializer_class = s.EventSerializer
    filterset_class = filters.EventFilterSet
    pagination_class = EventPagination
    parser_classes = [BoundedJSONParser]
    ordering = ["-id"]
    api_key_scopes: tuple[str, ...] | None = None  # narrowed per action (event ingestion accepts ingest keys)
    ordering_fields: list[str] = []

    @extend_schema(
        summary="Ingest events (≤ 1000, all or nothing)",
        request=s.EventInputSerializer(many=True),
        responses={
            200: OpenApiResponse(s.BulkResultSerializer, description="created = new, unchanged = duplicates."),
            400: OpenApiResponse(s.BulkErrorSerializer, description="Invalid rows with their index."),
        },
    )
    @action(detail=False, methods=["post"], url_path="bulk", api_key_scopes=("ingest", "write"))
    def bulk(self, request):
        if getattr(request.user, "api_key", None) is None and not request.user.has_perm("accounts.add_usageevent"):
            raise exceptions.PermissionDenied(_("Your role cannot add usage events."))
        rows = request.data.get("rows") if isinstance(request.data, dict) else request.data
        if not isinstance(rows, list):
            raise exceptions.ParseError(_('Send a JSON array of events (or {"rows": [...]}).'))
        try:
            result = services.bulk_upsert(kind="events", rows=rows)
        except services.RowErrors as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(result.as_dict())
