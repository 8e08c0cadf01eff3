"""The trail's filters, shared by the page, its CSV/JSON export and the API: by object, account, person, actor,
door, action and time."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from audit.models import Action, ActorKind, AuditEntry, Door
from audit.registry import AUDITED

ANY = _("Any")


def object_type_choices() -> list[tuple[str, str]]:
    return [(spec.model.lower(), spec.label) for spec in AUDITED]


class DayInput(forms.DateInput):
    input_type = "date"


class AuditFilterSet(django_filters.FilterSet):
    object_type = django_filters.ChoiceFilter(label=_("Object"), choices=object_type_choices(), empty_label=ANY)
    object_id = django_filters.CharFilter(label=_("Object id"))
    account = django_filters.NumberFilter(label=_("Account id"), field_name="account_id", min_value=1)
    user = django_filters.ModelChoiceFilter(
        label=_("Person"),
        field_name="user_id",
        queryset=get_user_model().objects.order_by("username"),
        to_field_name="pk",
        method="filter_user",
        empty_label=ANY,
    )
    actor_kind = django_filters.ChoiceFilter(label=_("Actor"), choices=ActorKind.choices, empty_label=ANY)
    door = django_filters.ChoiceFilter(label=_("Door"), choices=Door.choices, empty_label=ANY)
    action = django_filters.ChoiceFilter(label=_("Action"), choices=Action.choices, empty_label=ANY)
    # Days in the installation's time zone, both included: "from 1 March to 31 March" is the whole of March.
    since = django_filters.DateFilter(label=_("From"), method="filter_since", widget=DayInput)
    until = django_filters.DateFilter(label=_("To"), method="filter_until", widget=DayInput)

    class Meta:
        model = AuditEntry
        fields: list[str] = []

    @extend_schema_field(OpenApiTypes.INT)
    def filter_user(self, queryset, name, value):
        return queryset.filter(user_id=value.pk) if value else queryset

    def filter_since(self, queryset, name, value: dt.date):
        return queryset.filter(occurred_at__gte=_start_of(value))

    def filter_until(self, queryset, name, value: dt.date):
        return queryset.filter(occurred_at__lt=_start_of(value + dt.timedelta(days=1)))


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
