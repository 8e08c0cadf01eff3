"""Rules, playbooks (with their ordered steps) and journeys (with their milestones) over the API, saved through
`automations.rules.rule_save`, `automations.playbooks.playbook_save` and `automations.journeys.journey_save`, so
the API and the editors validate alike. Looked up by their stable `key`."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from accounts.models import LifecycleStage, Segment
from automations import actions, conditions, journeys, playbooks, removal, rules
from automations.models import Journey, Playbook, Rule, StepKind
from configuration import selectors
from configuration.api.base import IN_USE, TAGS, CrudViewSet, validated_by

_CONDITIONS_HELP = (
    'The condition tree: {"all": […]} / {"any": […]} groups of conditions such as {"type": "health_below", '
    '"value": 70} (the rule editor lists every condition type).'
)
_ACTIONS_HELP = 'The actions, in order, e.g. [{"type": "create_task", "title": "Call them"}].'


class RuleSerializer(serializers.ModelSerializer):
    conditions = serializers.JSONField(help_text=_CONDITIONS_HELP)
    actions = serializers.JSONField(help_text=_ACTIONS_HELP)

    class Meta:
        model = Rule
        fields = ["id", "key", "name", "description", "enabled", "cooldown_days", "conditions", "actions",
                  "created_at", "updated_at", "last_evaluated_at", "last_matched"]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at", "last_evaluated_at", "last_matched"]
        extra_kwargs = {"cooldown_days": {"max_value": 3650}}

    def validate_conditions(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_('The conditions are an object, e.g. {"all": […]}.'))
        return validated_by(conditions.validate, value, conditions.ConditionError)

    def validate_actions(self, value):
        return validated_by(actions.validate, value, actions.ActionError)

    def _save(self, rule: Rule | None, data: dict) -> Rule:
        values = {f: getattr(rule, f) for f in rules.RULE_FIELDS} if rule else {}
        values.update(data)
        return rules.rule_save(
            key=values["key"], name=values["name"], description=values.get("description", ""),
            conditions_tree=values["conditions"], actions_list=values["actions"],
            cooldown_days=values.get("cooldown_days", 7), enabled=values.get("enabled"),
            actor=self.context["actor"], rule=rule,
        )  # fmt: skip

    def create(self, validated_data):
        return self._save(None, validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Trigger rules"),
    create=extend_schema(tags=TAGS, summary="Create a rule"),
    retrieve=extend_schema(tags=TAGS, summary="A rule, by key"),
    update=extend_schema(tags=TAGS, summary="Replace a rule"),
    partial_update=extend_schema(tags=TAGS, summary="Change some of a rule's fields"),
    destroy=extend_schema(tags=TAGS, summary="Delete a rule (with its executions; its tasks stay)"),
)
class RuleViewSet(CrudViewSet):
    """Trigger rules ("when <conditions> then <actions>"), validated as in the rule editor. Filter with
    ?enabled=true."""

    serializer_class = RuleSerializer
    filterset_fields = ["enabled"]
    ordering_fields = ["name", "key", "updated_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.rules()

    def remove(self, instance) -> None:
        removal.rule_delete(rule=instance)


# --- Playbooks -------------------------------------------------------------------------------------------------------


class StepSerializer(serializers.Serializer):
    order = serializers.IntegerField(read_only=True, help_text="1…n, in the order given.")
    kind = serializers.ChoiceField(choices=StepKind.choices)
    config = serializers.JSONField(
        required=False,
        help_text="The step's parameters, validated as in the playbook editor: task {title, assignee, priority, "
        "due_in_days}, email {template (an email template's key), to}, wait {days, until?} (until: a condition that "
        'ends the wait early), branch {condition, then, else, reason?} (then/else: a step number, "next" or '
        '"stop"). Besides every rule condition, branches and waits may test the enrolment\'s own steps: '
        "email_opened / email_clicked {step?}, task_outcome {outcome: completed | not_completed | overdue, step?}; "
        "and health_band {in: [green, yellow, red]}.",
    )


class PlaybookSerializer(serializers.ModelSerializer):
    steps = StepSerializer(many=True, help_text="The ordered steps; a save replaces them all.")

    class Meta:
        model = Playbook
        fields = ["id", "key", "name", "description", "trigger", "owner_role", "metric", "enabled",
                  "holdout_percent", "created_at", "steps"]  # fmt: skip
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"holdout_percent": {"max_value": 50}}

    def _save(self, playbook: Playbook | None, data: dict) -> Playbook:
        fields = ("key", "name", "description", "trigger", "owner_role", "metric", "enabled", "holdout_percent")
        values = {f: getattr(playbook, f) for f in fields} if playbook else {}
        values.update({f: data[f] for f in fields if f in data})
        if "steps" in data:
            steps = [(s["kind"], s.get("config", {})) for s in data["steps"]]
        else:
            steps = [(s.kind, s.config) for s in playbook.steps.all()]
        return playbooks.playbook_save(**values, steps=steps, playbook=playbook)

    def create(self, validated_data):
        return self._save(None, validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Playbooks with their steps"),
    create=extend_schema(tags=TAGS, summary="Create a playbook"),
    retrieve=extend_schema(tags=TAGS, summary="A playbook, by key"),
    update=extend_schema(tags=TAGS, summary="Replace a playbook and its steps"),
    partial_update=extend_schema(tags=TAGS, summary="Change some of a playbook's fields (steps: all of them)"),
    destroy=extend_schema(
        tags=TAGS, summary="Delete a playbook (refused while a rule enrols in it)", responses={204: None, 409: IN_USE}
    ),
)
class PlaybookViewSet(CrudViewSet):
    """Playbooks with their ordered steps, saved all or nothing as in the playbook editor. Filter with
    ?enabled=true."""

    serializer_class = PlaybookSerializer
    filterset_fields = ["enabled"]
    ordering_fields = ["name", "key"]
    ordering = ["name"]
    refusal_field = "steps"

    def get_queryset(self):
        return selectors.playbooks()

    def remove(self, instance) -> None:
        removal.playbook_delete(playbook=instance)


# --- Journeys --------------------------------------------------------------------------------------------------------


class MilestoneSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=100, required=False, help_text="Stable within the journey; from the name.")
    name = serializers.CharField(max_length=200)
    order = serializers.IntegerField(read_only=True)
    condition = serializers.JSONField(
        help_text='How it is reached: {"type": "event", "event_type": …, "count": n}, {"type": "attribute", '
        '"name": …, "at_least": x}, {"type": "active_users", "at_least": n}, {"type": "paid"} or {"type": "manual"}.'
    )
    stage = serializers.ChoiceField(choices=LifecycleStage.choices, required=False, allow_blank=True)
    owner_role = serializers.CharField(max_length=64, required=False, allow_blank=True)
    due_days = serializers.IntegerField(min_value=0, max_value=3650, required=False, allow_null=True)
    first_value = serializers.BooleanField(required=False)

    def validate_condition(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_('The condition is an object, e.g. {"type": "paid"}.'))
        return value


class JourneySerializer(serializers.ModelSerializer):
    segment = serializers.ChoiceField(choices=Segment.choices, required=False, allow_blank=True)
    milestones = MilestoneSerializer(many=True, help_text="The ordered milestones, matched by key on a save.")

    class Meta:
        model = Journey
        fields = ["id", "key", "name", "description", "onboarding", "segment", "created_at", "milestones"]
        read_only_fields = ["id", "created_at"]

    def _save(self, journey: Journey | None, data: dict) -> Journey:
        fields = ("key", "name", "description", "onboarding", "segment")
        values = {f: getattr(journey, f) for f in fields} if journey else {}
        values.update({f: data[f] for f in fields if f in data})
        milestones = data.get("milestones")
        if milestones is None:
            milestones = MilestoneSerializer(journey.milestones.all(), many=True).data
        return journeys.journey_save(**values, milestones=[dict(m) for m in milestones], journey=journey)

    def create(self, validated_data):
        return self._save(None, validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Journeys with their milestones"),
    create=extend_schema(tags=TAGS, summary="Create a journey"),
    retrieve=extend_schema(tags=TAGS, summary="A journey, by key"),
    update=extend_schema(tags=TAGS, summary="Replace a journey and its milestones"),
    partial_update=extend_schema(tags=TAGS, summary="Change some of a journey's fields"),
    destroy=extend_schema(tags=TAGS, summary="Delete a journey (with its milestones and the accounts' progress)"),
)
class JourneyViewSet(CrudViewSet):
    """Customer journeys and onboarding templates with their milestones. A milestone left out of a save is deleted
    with its progress; one kept (by key) keeps it. Filter with ?onboarding=true&segment=smb."""

    serializer_class = JourneySerializer
    filterset_fields = ["onboarding", "segment"]
    ordering_fields = ["name", "key"]
    ordering = ["name"]
    refusal_field = "milestones"

    def get_queryset(self):
        return selectors.journeys()

    def remove(self, instance) -> None:
        removal.journey_delete(journey=instance)
