"""Input and output serializers of the accounts REST API, shared by the bulk upserts and the file imports.

Input serializers only check shapes, types and ranges; references (account external ids, user e-mails) are
resolved set-based by `accounts.imports.services`, so a bulk request of 1,000 rows costs a fixed number of queries.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import (
    AccountStatus,
    Activity,
    ActivityKind,
    BillingPeriod,
    Contact,
    LifecycleStage,
    Segment,
    Subscription,
    SubscriptionStatus,
    SupportTicket,
    SurveyKind,
    SurveyResponse,
    Tag,
    Task,
    TaskPriority,
    TaskStatus,
    TicketPriority,
    TicketStatus,
    UsageEvent,
)
from churnapp.money import currency_code
from churnapp.validation import MAX_EVENT_TIME, MIN_EVENT_TIME, event_time_problem

BILLING_PERIOD_NAMES = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12, "yearly": 12}
MAX_BULK_ROWS = 1000


@extend_schema_field({"oneOf": [{"type": "integer", "enum": [1, 3, 6, 12]}, {"type": "string"}]})
class BillingPeriodField(serializers.Field):
    """Months as a number (1, 3, 6, 12) or monthly / quarterly / semiannual / annual."""

    default_error_messages = {
        "invalid": gettext_lazy("Use 1, 3, 6 or 12 (months) or monthly, quarterly, semiannual, annual.")
    }

    def to_internal_value(self, data):
        value = str(data).strip().lower()
        months = BILLING_PERIOD_NAMES.get(value) or (int(value) if value.isdigit() else None)
        if months not in BillingPeriod.values:
            self.fail("invalid")
        return months

    def to_representation(self, value):
        return value


class AccountRefField(serializers.CharField):
    """An account by its external id."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 128)
        kwargs.setdefault("help_text", "The account's external id.")
        super().__init__(**kwargs)


class LenientChoiceField(serializers.ChoiceField):
    """A choice given by its value or its label, in any case ("Enterprise", "enterprise", "Mid-market",
    "mid_market" all mean `mid_market`), as CRM exports and spreadsheets write them; stored as the value."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            wanted = data.strip().casefold()
            for value, label in self.choices.items():
                if wanted in (str(value).casefold(), str(label).casefold(), str(label).casefold().replace("-", "_")):
                    return value
        return super().to_internal_value(data)


# --- Input ------------------------------------------------------------------------------------------------------


class AccountInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=128)
    name = serializers.CharField(max_length=255, required=False)
    domain = serializers.CharField(max_length=255, required=False, allow_blank=True)
    owner_email = serializers.EmailField(required=False, allow_blank=True, help_text="An existing user's e-mail.")
    segment = LenientChoiceField(choices=Segment.choices, required=False)
    tier = serializers.CharField(max_length=32, required=False, allow_blank=True)
    plan = serializers.CharField(max_length=64, required=False, allow_blank=True)
    lifecycle_stage = LenientChoiceField(choices=LifecycleStage.choices, required=False)
    status = LenientChoiceField(choices=AccountStatus.choices, required=False)
    renewal_date = serializers.DateField(required=False, allow_null=True)
    custom_attributes = serializers.DictField(required=False, help_text="Merged into the existing attributes.")
    tags = serializers.ListField(child=serializers.SlugField(max_length=64), required=False, max_length=100)
    billing_customer_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    created_at = serializers.DateTimeField(required=False)


class ContactInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    account = AccountRefField()
    user_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    title = serializers.CharField(max_length=255, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False)
    unsubscribed = serializers.BooleanField(required=False)
    traits = serializers.DictField(required=False)


class SubscriptionInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    account = AccountRefField()
    product = serializers.CharField(max_length=128)
    mrr = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    quantity = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)
    units = serializers.CharField(max_length=32, required=False, allow_blank=True)
    billing_period = BillingPeriodField(required=False)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, help_text="Exclusive; empty while open.")
    status = LenientChoiceField(choices=SubscriptionStatus.choices, required=False)
    cancellation_reason = serializers.CharField(max_length=64, required=False, allow_blank=True)
    currency = serializers.CharField(
        max_length=3,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="The currency of `mrr` (ISO 4217); empty: the reporting currency (setting CURRENCY). Another "
        "currency is converted with the admin's exchange rate valid on `start_date`; without one the row is refused.",
    )

    def validate_currency(self, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return currency_code(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error

    def validate(self, attrs):
        end = attrs.get("end_date")
        if end is not None and end <= attrs["start_date"]:
            raise serializers.ValidationError({"end_date": [_("Must be after start_date (end_date is exclusive).")]})
        return attrs


class TicketInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=128, help_text="The ticket id in the helpdesk.")
    account = AccountRefField()
    subject = serializers.CharField(max_length=255)
    status = LenientChoiceField(choices=TicketStatus.choices, required=False)
    priority = LenientChoiceField(choices=TicketPriority.choices, required=False)
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(required=False, allow_null=True)


class SurveyResponseInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    account = AccountRefField()
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=SurveyKind.choices)
    score = serializers.IntegerField(min_value=0, max_value=10)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    responded_at = serializers.DateTimeField()

    def validate(self, attrs):
        if attrs["kind"] == SurveyKind.CSAT and not 1 <= attrs["score"] <= 5:
            raise serializers.ValidationError({"score": [_("CSAT scores are 1–5.")]})
        return attrs


class TagInputSerializer(serializers.Serializer):
    name = serializers.SlugField(max_length=64)
    color = serializers.CharField(max_length=16, required=False)


def validate_event_time(value):
    # event_time_problem's one problem is the range (churnapp.validation.EVENT_TIME_RANGE), said here in words that
    # translate.
    if event_time_problem(value):
        raise serializers.ValidationError(
            _("Event time is out of range (years %(first)s–%(last)s).")
            % {"first": MIN_EVENT_TIME.year, "last": MAX_EVENT_TIME.year}
        )


class EventInputSerializer(serializers.Serializer):
    account = AccountRefField()
    event_type = serializers.CharField(max_length=128)
    occurred_at = serializers.DateTimeField(validators=[validate_event_time])
    user_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    message_id = serializers.CharField(
        max_length=128, required=False, help_text="De-duplication key; derived from the content when omitted."
    )
    properties = serializers.DictField(required=False)


class ActivityInputSerializer(serializers.Serializer):
    account = AccountRefField()
    kind = serializers.ChoiceField(
        choices=ActivityKind.choices, required=False, help_text="Any but `change`: audit entries are system-written."
    )
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True)
    body = serializers.CharField(max_length=50_000, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False)

    def validate_kind(self, value: str) -> str:
        if value == ActivityKind.CHANGE:
            raise serializers.ValidationError(_("Change entries are the audit log: only the system writes them."))
        return value


class TaskInputSerializer(serializers.Serializer):
    account = AccountRefField()
    title = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, max_length=50_000)
    due_date = serializers.DateField(required=False, allow_null=True)
    priority = LenientChoiceField(choices=TaskPriority.choices, required=False)
    status = LenientChoiceField(choices=TaskStatus.choices, required=False)
    assignee_email = serializers.EmailField(required=False, allow_blank=True)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=50_000)


# --- Output -----------------------------------------------------------------------------------------------------


class _AccountScoped(serializers.ModelSerializer):
    account = serializers.CharField(source="account.external_id", read_only=True, help_text="Account external id.")


class ContactSerializer(_AccountScoped):
    class Meta:
        model = Contact
        fields = [
            "id",
            "external_id",
            "account",
            "account_id",
            "user_id",
            "email",
            "name",
            "title",
            "is_primary",
            "unsubscribed",
            "traits",
            "created_at",
        ]
        read_only_fields = fields


class SubscriptionSerializer(_AccountScoped):
    class Meta:
        model = Subscription
        fields = [
            "id",
            "external_id",
            "account",
            "account_id",
            "product",
            "mrr",
            "currency",
            "original_mrr",
            "exchange_rate",
            "quantity",
            "units",
            "billing_period",
            "start_date",
            "end_date",
            "status",
            "cancellation_reason",
            "created_at",
        ]
        read_only_fields = fields


class TicketSerializer(_AccountScoped):
    class Meta:
        model = SupportTicket
        fields = ["id", "external_id", "account", "account_id", "subject", "status", "priority", "opened_at"]
        fields += ["resolved_at"]
        read_only_fields = fields


class SurveyResponseSerializer(_AccountScoped):
    contact_email = serializers.SerializerMethodField()

    class Meta:
        model = SurveyResponse
        fields = ["id", "external_id", "account", "account_id", "contact_email", "kind", "score", "comment"]
        fields += ["responded_at"]
        read_only_fields = fields

    def get_contact_email(self, obj) -> str:
        return obj.contact.email if obj.contact_id else ""


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "color"]
        read_only_fields = fields


class EventSerializer(_AccountScoped):
    class Meta:
        model = UsageEvent
        fields = ["id", "account", "account_id", "user_id", "event_type", "occurred_at", "properties", "message_id"]
        fields += ["received_at"]
        read_only_fields = fields


class ActivitySerializer(_AccountScoped):
    author = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = Activity
        fields = ["id", "account", "account_id", "kind", "author", "subject", "body", "details", "occurred_at"]
        read_only_fields = fields


class TaskSerializer(_AccountScoped):
    assignee = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "account",
            "account_id",
            "title",
            "description",
            "due_date",
            "priority",
            "status",
            "source",
            "assignee",
            "outcome",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class BulkRowResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField(allow_null=True, help_text="null for a pending row.")
    action = serializers.ChoiceField(
        choices=["created", "updated", "unchanged", "pending"],
        help_text="pending: a ticket whose account is not known yet, kept and attached when the account appears.",
    )


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Tickets kept until their account appears (tickets only).")
    results = BulkRowResultSerializer(many=True)


class PendingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending"])
    detail = serializers.CharField()


class BulkRowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0-based position of the row in the request.")
    errors = serializers.DictField(help_text="Messages per field.")


class BulkErrorSerializer(serializers.Serializer):
    errors = BulkRowErrorSerializer(many=True, required=False, help_text="Invalid rows; nothing was written.")
    detail = serializers.CharField(required=False, help_text="The body is not a list of rows.")
