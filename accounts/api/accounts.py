"""Accounts over the REST API. Reads use the same FilterSet as the accounts list page."""

from __future__ import annotations

from rest_framework import serializers

from accounts import serializers as s
from accounts.api.base import UpsertViewSet
from accounts.api.resources import documented
from accounts.filters import AccountFilterSet
from accounts.models import Account, HealthBand
from accounts.selectors import account_list


class AccountSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    health_band = serializers.ChoiceField(choices=HealthBand.choices, allow_blank=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "external_id",
            "name",
            "domain",
            "owner",
            "segment",
            "tier",
            "plan",
            "lifecycle_stage",
            "status",
            "renewal_date",
            "custom_attributes",
            "tags",
            "mrr",
            "seats",
            "last_seen_at",
            "health_score",
            "health_band",
            "churn_probability",
            "billing_customer_id",
            "payment_failed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@documented(s.AccountInputSerializer, AccountSerializer)
class AccountViewSet(UpsertViewSet):
    """Accounts with their cached MRR, seats, health and churn risk. Filters match the accounts list page.

    Writes upsert by `external_id`; `custom_attributes` merge into the existing ones; `tags` replace the tags.
    """

    kind = "accounts"
    serializer_class = AccountSerializer
    input_serializer_class = s.AccountInputSerializer
    filterset_class = AccountFilterSet

    def get_queryset(self):
        return account_list()
