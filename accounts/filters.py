"""One FilterSet for the accounts list page and the accounts API."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts import selectors
from accounts.models import Account, AccountStatus, HealthBand, LifecycleStage, Segment, Tag


@extend_schema_field(OpenApiTypes.STR)
class TagFilter(django_filters.ModelMultipleChoiceFilter):
    """Tags by name; repeat the parameter for several (any of them matches)."""


class AccountFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    owner = django_filters.CharFilter(method="filter_owner", label=_("Owner"))
    segment = django_filters.MultipleChoiceFilter(choices=Segment.choices, label=_("Segment"))
    plan = django_filters.CharFilter(field_name="plan", lookup_expr="iexact")
    stage = django_filters.MultipleChoiceFilter(
        field_name="lifecycle_stage", choices=LifecycleStage.choices, label=_("Lifecycle stage")
    )
    status = django_filters.MultipleChoiceFilter(choices=AccountStatus.choices, label=_("Status"))
    band = django_filters.MultipleChoiceFilter(
        field_name="health_band", choices=HealthBand.choices, label=_("Health band")
    )
    tag = TagFilter(field_name="tags__name", to_field_name="name", queryset=Tag.objects.all(), label=_("Tag"))
    mrr_min = django_filters.NumberFilter(field_name="mrr", lookup_expr="gte", label=_("MRR from"), min_value=0)
    mrr_max = django_filters.NumberFilter(field_name="mrr", lookup_expr="lte", label=_("MRR to"), min_value=0)
    renewal_within = django_filters.NumberFilter(
        method="filter_renewal_within", label=_("Renews within (days)"), min_value=0, max_value=3650
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("mrr", "mrr"),
            ("health_score", "health"),
            ("churn_probability", "risk"),
            ("renewal_date", "renewal"),
            ("last_seen_at", "last_seen"),
            ("status", "status"),
            ("owner__first_name", "owner"),
        ),
    )

    class Meta:
        model = Account
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value) | Q(external_id__iexact=value))

    def filter_owner(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        if value == "me":
            user = getattr(self.request, "user", None)
            # API keys authenticate without a user row: "me" is nobody for them.
            real_user = user is not None and user.is_authenticated and getattr(user, "pk", None) is not None
            return queryset.filter(owner=user) if real_user else queryset.none()
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if value.isascii() and value.isdigit():
            return queryset.filter(owner_id=int(value))
        # An owner given by username or e-mail, as integrations know them.
        return queryset.filter(Q(owner__username__iexact=value) | Q(owner__email__iexact=value))

    def filter_renewal_within(self, queryset: QuerySet[Account], name: str, value) -> QuerySet[Account]:
        today = timezone.localdate()
        return queryset.filter(renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=int(value)))


def filter_data(params: QueryDict) -> QueryDict:
    """The list's query string as the filterset reads it: "Any" in a filter select submits an empty value, which
    means no filter, not an invalid choice."""
    data = QueryDict(mutable=True)
    for key, values in params.lists():
        kept = [v for v in values if v.strip()]
        if kept:
            data.setlist(key, kept)
    return data


class InvalidFilters(ValueError):
    """The list's filters did not validate; `errors` holds the filterset's errors by field."""

    def __init__(self, errors):
        super().__init__("invalid filters")
        self.errors = errors


def bulk_selection(request, *, query: str | None = None, ids=()) -> tuple[str, str, QuerySet[Account]]:
    """The accounts a bulk edit is about, as (scope, query, accounts): every account the accounts list shows for the
    query string `query` ("matching"), or the chosen ids ("selected"). The page and the API both choose so.

    Raises `InvalidFilters` when the query string's filters are not valid.
    """
    if query is None:
        return "selected", "", selectors.accounts_by_ids(ids)
    filterset = AccountFilterSet(filter_data(QueryDict(query)), queryset=selectors.account_list(), request=request)
    if not filterset.is_valid():
        raise InvalidFilters(filterset.errors)
    return "matching", query, filterset.qs
