"""POST /api/v1/rule-backtests/: backtest a saved rule (by key) or a draft (conditions, actions, cooldown) over the
last months of history. Writes nothing: read keys may call it."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from automations.backtest import DEFAULT_MONTHS, MAX_MONTHS, MIN_MONTHS, BacktestInvalid, CannotBacktest, rule_backtest
from churnapp.models import ApiScope

LIMIT = 10**6  # the largest number a backtested condition may hold (days, counts, values)


def _numbers_in_range(value, path: str = "") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _numbers_in_range(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            _numbers_in_range(item, path)
    elif isinstance(value, int | float) and not isinstance(value, bool) and not -LIMIT <= value <= LIMIT:
        raise serializers.ValidationError(f"{path or 'value'}: numbers must lie between -{LIMIT} and {LIMIT}.")


class RuleBacktestRequestSerializer(serializers.Serializer):
    rule = serializers.SlugField(max_length=100, required=False, help_text="The key of a saved rule.")
    conditions = serializers.JSONField(required=False, help_text="A draft's condition tree (instead of `rule`).")
    actions = serializers.JSONField(required=False, help_text="A draft's actions (for the tasks and emails load).")
    cooldown_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    months = serializers.IntegerField(min_value=MIN_MONTHS, max_value=MAX_MONTHS, default=DEFAULT_MONTHS)

    def validate_conditions(self, value):
        _numbers_in_range(value)
        return value

    def validate(self, attrs):
        if ("rule" in attrs) == ("conditions" in attrs):
            raise serializers.ValidationError({"rule": ["Give either a rule key or the conditions of a draft."]})
        return attrs


class WeekLoadSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday the week starts on.")
    tasks = serializers.IntegerField()
    emails = serializers.IntegerField()


class FiredAccountSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    name = serializers.CharField()
    first_fired = serializers.DateField()
    fires = serializers.IntegerField()
    churned_within_90_days = serializers.BooleanField()
    churned_on = serializers.DateField(allow_null=True)


class RuleBacktestSerializer(serializers.Serializer):
    months = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    cooldown_days = serializers.IntegerField()
    accounts = serializers.IntegerField(help_text="Accounts existing and not churned on a day of the window.")
    accounts_fired = serializers.IntegerField()
    fires = serializers.IntegerField()
    fires_with_hindsight = serializers.IntegerField(help_text="Fires up to 90 days before the window's end.")
    fires_followed_by_churn = serializers.IntegerField(help_text="Of those, the fires followed by churn in 90 days.")
    fired_and_churned = serializers.IntegerField(help_text="Accounts fired on that churned within 90 days after.")
    churned = serializers.IntegerField(help_text="Accounts that churned in the window.")
    churned_caught = serializers.IntegerField(help_text="Of those, the ones with a fire in the 90 days before.")
    precision = serializers.FloatField(allow_null=True, help_text="Fires followed by churn within 90 days ÷ fires.")
    recall = serializers.FloatField(allow_null=True, help_text="Churned accounts with a fire in the 90 days before.")
    base_rate = serializers.FloatField(allow_null=True, help_text="Chance of churn within 90 days, any account-day.")
    lift = serializers.FloatField(allow_null=True, help_text="precision ÷ base_rate")
    not_fired_churn_rate = serializers.FloatField(allow_null=True)
    tasks_per_week = serializers.FloatField()
    emails_per_week = serializers.FloatField()
    weekly = WeekLoadSerializer(many=True)
    first_fired = FiredAccountSerializer(many=True)
    today_leaves = serializers.ListField(child=serializers.CharField(), help_text="Leaves read from today's values.")
    seconds = serializers.FloatField()


class RuleBacktestApi(APIView):
    """How a rule would have done over the last `months` months: evaluated at the end of each day with its cooldown,
    its fires judged against the churn (end of the last active subscription) within 90 days; and the tasks and emails
    per week its actions would have created. 400 per field on bad input, and on a condition whose history is not
    stored ("cannot be backtested")."""

    api_key_scopes = [ApiScope.READ]

    @extend_schema(
        request=RuleBacktestRequestSerializer,
        responses={
            200: RuleBacktestSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="The messages per field ({field: [message]})."),
        },
        examples=[OpenApiExample("A saved rule", value={"rule": "health-below-70", "months": 12}, request_only=True)],
        tags=["automations"],
    )
    def post(self, request, *args, **kwargs):
        params = RuleBacktestRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            result = rule_backtest(
                rule=data.get("rule"),
                tree=data.get("conditions"),
                actions_list=data.get("actions"),
                cooldown_days=data.get("cooldown_days"),
                months=data["months"],
            )
        except BacktestInvalid as exc:
            raise ValidationError(exc.errors) from exc
        except CannotBacktest as exc:
            raise ValidationError({"conditions": [str(exc)]}) from exc
        return Response(RuleBacktestSerializer(result).data)
