"""Survey schedules (by key), issue routing (one route per issue type) and quarterly goals (by id) over the API,
saved through `winback.services.config`, `winback.services.follow_ups.issue_route_set` and
`dashboards.services.goal_create` / `goal_delete`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.response import Response

from churnapp.roles import Role
from configuration import selectors
from configuration.api.base import TAGS, ConfigViewSet, CrudViewSet, refusals
from dashboards import services as dashboard_services
from dashboards.models import Goal
from winback.models import IssueRoute, IssueType, SurveySchedule
from winback.services import issue_route_set
from winback.services.config import SCHEDULE_FIELDS, issue_route_delete, survey_schedule_delete, survey_schedule_save


class SurveyScheduleSerializer(serializers.ModelSerializer):
    key = serializers.SlugField(
        max_length=100, required=False, help_text="Stable identifier; from the name if left out."
    )

    class Meta:
        model = SurveySchedule
        fields = ["id", *SCHEDULE_FIELDS, "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"sample_rate": {"min_value": 0, "max_value": 1}}

    def validate_key(self, value: str) -> str:
        if selectors.key_taken(SurveySchedule, value, instance=self.instance):
            raise serializers.ValidationError(_("Another survey schedule has this key."))
        return value

    def create(self, validated_data):
        return survey_schedule_save(values=validated_data, actor=self.context["actor"])

    def update(self, instance, validated_data):
        return survey_schedule_save(values=validated_data, schedule=instance, actor=self.context["actor"])


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Survey schedules"),
    create=extend_schema(tags=TAGS, summary="Create a survey schedule"),
    retrieve=extend_schema(tags=TAGS, summary="A survey schedule, by key"),
    update=extend_schema(tags=TAGS, summary="Replace a survey schedule"),
    partial_update=extend_schema(tags=TAGS, summary="Change some of a survey schedule's fields"),
    destroy=extend_schema(tags=TAGS, summary="Delete a survey schedule (invitations it sent stay)"),
)
class SurveyScheduleViewSet(CrudViewSet):
    """When to ask whom an NPS or CSAT survey. Filter with ?kind=nps&trigger=…&is_active=true."""

    serializer_class = SurveyScheduleSerializer
    filterset_fields = ["kind", "trigger", "is_active"]
    ordering_fields = ["name", "key"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.survey_schedules()

    def remove(self, instance) -> None:
        survey_schedule_delete(schedule=instance, actor=actor_from(self))


def actor_from(view) -> object:
    return view.get_serializer_context()["actor"]


# --- Issue routing ---------------------------------------------------------------------------------------------------


class IssueRouteSerializer(serializers.ModelSerializer):
    issue_type = serializers.ChoiceField(choices=IssueType.choices, read_only=True)
    assignee = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        allow_null=True,
        required=False,
        help_text="A user's username: they follow the answers up (when active).",
    )
    role = serializers.ChoiceField(
        choices=[r.value for r in Role if r != Role.VIEWER],
        allow_blank=True,
        required=False,
        help_text="Else the least-loaded member of this role; else the account owner.",
    )
    sla_days = serializers.IntegerField(min_value=1, max_value=30, help_text="Due this many days after the answer.")

    class Meta:
        model = IssueRoute
        fields = ["issue_type", "assignee", "role", "sla_days"]


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Issue routing: who follows up dissatisfied answers, per issue type"),
    retrieve=extend_schema(tags=TAGS, summary="The route of one issue type"),
    destroy=extend_schema(tags=TAGS, summary="Forget a route (its answers go to the account owner)"),
)
class IssueRouteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ConfigViewSet):
    """One route per issue type (product, billing, support, onboarding, missing_feature, other): a person, else a
    role's least-loaded member, else the account owner, due within `sla_days`. PUT creates or replaces it."""

    serializer_class = IssueRouteSerializer
    lookup_field = "issue_type"
    filter_backends: list = []
    pagination_class = None
    http_method_names = ["get", "put", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.issue_routes()

    @extend_schema(tags=TAGS, summary="Create or replace the route of an issue type", request=IssueRouteSerializer,
                   responses={200: IssueRouteSerializer})  # fmt: skip
    def update(self, request, issue_type: str):
        if issue_type not in IssueType.values:
            raise Http404(_("Unknown issue type %(issue_type)r.") % {"issue_type": issue_type})
        data = IssueRouteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with refusals():
            route = issue_route_set(
                issue_type=issue_type, assignee=values.get("assignee"), role=values.get("role", ""),
                sla_days=values["sla_days"], actor=actor_from(self),
            )  # fmt: skip
        return Response(IssueRouteSerializer(route).data)

    def perform_destroy(self, instance) -> None:
        issue_route_delete(route=instance, actor=actor_from(self))


# --- Goals -----------------------------------------------------------------------------------------------------------


class GoalSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    quarter = serializers.IntegerField(min_value=1, max_value=4)

    class Meta:
        model = Goal
        fields = ["id", "metric", "comparator", "target", "year", "quarter", "segment", "created_at"]
        read_only_fields = ["id", "created_at"]

    def create(self, validated_data):
        return dashboard_services.goal_create(actor=self.context["actor"], **validated_data)


class GoalUpdateSerializer(serializers.ModelSerializer):
    """A goal's target; its metric, quarter and segment identify it (to move it: delete, then create)."""

    class Meta:
        model = Goal
        fields = ["id", "metric", "comparator", "target", "year", "quarter", "segment", "created_at"]
        read_only_fields = ["id", "metric", "year", "quarter", "segment", "created_at"]

    def update(self, instance, validated_data):
        values = {f: getattr(instance, f) for f in ("metric", "comparator", "target", "year", "quarter", "segment")}
        values.update(validated_data)
        return dashboard_services.goal_create(actor=self.context["actor"], **values)


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Quarterly goals"),
    create=extend_schema(tags=TAGS, summary="Set a goal (one per metric, quarter and segment)"),
    retrieve=extend_schema(tags=TAGS, summary="A goal, by id"),
    update=extend_schema(tags=TAGS, summary="Change a goal's comparator and target"),
    partial_update=extend_schema(tags=TAGS, summary="Change a goal's comparator or target"),
    destroy=extend_schema(tags=TAGS, summary="Delete a goal"),
)
class GoalViewSet(CrudViewSet):
    """Quarterly KPI targets, for all accounts or one segment; looked up by id (their natural key is metric, year,
    quarter and segment). Filter with ?year=2026&quarter=1&metric=monthly_churn&segment=smb."""

    serializer_class = GoalSerializer
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"[0-9]+"
    filterset_fields = ["metric", "year", "quarter", "segment"]
    ordering_fields = ["year", "quarter", "metric"]
    ordering = ["-year", "-quarter", "metric", "segment"]

    def get_queryset(self):
        return selectors.goals()

    def get_serializer_class(self):
        return GoalUpdateSerializer if self.action in ("update", "partial_update") else GoalSerializer

    def remove(self, instance) -> None:
        dashboard_services.goal_delete(actor=actor_from(self), goal=instance)
