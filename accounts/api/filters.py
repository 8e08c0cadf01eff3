"""FilterSets of the API lists other than accounts (which shares accounts.filters.AccountFilterSet with its page)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import (
    Activity,
    ActivityKind,
    Contact,
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
from accounts.selectors import active_on_q


class UtcIsoDateTimeField(forms.DateTimeField):
    """ISO 8601 date-time, converted to UTC and kept to years 1900–9000: the database refuses offsets beyond
    ±15:59 and far-out years, which would otherwise surface as server errors."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        parsed = parse_datetime(value.strip()) if isinstance(value, str) else value
        if not isinstance(parsed, dt.datetime):
            raise forms.ValidationError(_("Enter an ISO 8601 date-time, e.g. 2026-01-31T09:00:00Z."), code="invalid")
        try:
            parsed = parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        except OverflowError:
            raise forms.ValidationError(_("Date-time out of range."), code="invalid") from None
        if not 1900 <= parsed.year <= 9000:
            raise forms.ValidationError(
                _("Date-time out of range (years %(first)s–%(last)s).") % {"first": 1900, "last": 9000}, code="invalid"
            )
        return parsed


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class _AccountScopedFilterSet(django_filters.FilterSet):
    account = django_filters.CharFilter(field_name="account__external_id", label="Account external id")


class ContactFilterSet(_AccountScopedFilterSet):
    email = django_filters.CharFilter(lookup_expr="iexact")
    user_id = django_filters.CharFilter()

    class Meta:
        model = Contact
        fields: list[str] = []


class SubscriptionFilterSet(_AccountScopedFilterSet):
    product = django_filters.CharFilter(lookup_expr="iexact")
    status = django_filters.MultipleChoiceFilter(choices=SubscriptionStatus.choices)
    active_on = django_filters.DateFilter(method="filter_active_on", label="Active at date")

    class Meta:
        model = Subscription
        fields: list[str] = []

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(active_on_q(value))


class TicketFilterSet(_AccountScopedFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    priority = django_filters.MultipleChoiceFilter(choices=TicketPriority.choices)
    opened_after = IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = SupportTicket
        fields: list[str] = []


class SurveyResponseFilterSet(_AccountScopedFilterSet):
    kind = django_filters.ChoiceFilter(choices=SurveyKind.choices)
    responded_after = IsoDateTimeFilter(field_name="responded_at", lookup_expr="gte")
    responded_before = IsoDateTimeFilter(field_name="responded_at", lookup_expr="lt")

    class Meta:
        model = SurveyResponse
        fields: list[str] = []


class EventFilterSet(_AccountScopedFilterSet):
    event_type = django_filters.CharFilter()
    user_id = django_filters.CharFilter()
    occurred_after = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = UsageEvent
        fields: list[str] = []


class ActivityFilterSet(_AccountScopedFilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=ActivityKind.choices)

    class Meta:
        model = Activity
        fields: list[str] = []


class TaskFilterSet(_AccountScopedFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices)
    priority = django_filters.MultipleChoiceFilter(choices=TaskPriority.choices)
    assignee = django_filters.CharFilter(field_name="assignee__email", lookup_expr="iexact", label="Assignee e-mail")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = Task
        fields: list[str] = []


class TagFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Tag
        fields: list[str] = []
