"""The trail's filters, shared by the page, its CSV/JSON export and the API: by object, account, person, actor,
door, action and time."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from audit.models import Action, ActorKind, AuditEntry, Door
from audit.registry import AUDITED


def object_type_choices() -> list[tuple[str, str]]:
    return [(spec.model.lower(), spec.label) for spec in AUDITED]


class AuditFilterSet(django_filters.FilterSet):
    object_type = django_filters.ChoiceFilter(label=_("Object"), choices=object_type_choices())
    object_id = django_filters.CharFilter(label=_("Object id"))
    account = django_filters.NumberFilter(label=_("Account id"), field_name="account_id", min_value=1)
    user = django_filters.ModelChoiceFilter(
        label=_("Person"),
        field_name="user_id",
        queryset=get_user_model().objects.order_by("username"),
        to_field_name="pk",
        method="filter_user",
    )
    actor_kind = django_filters.ChoiceFilter(label=_("Actor"), choices=ActorKind.choices)
    door = django_filters.ChoiceFilter(label=_("Door"), choices=Door.choices)
    action = django_filters.ChoiceFilter(label=_("Action"), choices=Action.choices)
    since = django_filters.IsoDateTimeFilter(label=_("From"), field_name="occurred_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(label=_("To"), field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields: list[str] = []

    @extend_schema_field(OpenApiTypes.INT)
    def filter_user(self, queryset, name, value):
        return queryset.filter(user_id=value.pk) if value else queryset
