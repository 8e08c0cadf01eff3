"""The audit trail over the REST API, for admins and admin-scoped keys (a security team's log collector)."""

from __future__ import annotations

from rest_framework import serializers, viewsets
from rest_framework.permissions import BasePermission

from audit.filters import AuditFilterSet
from audit.models import AuditEntry
from audit.views import may_read_trail
from churnapp.models import ApiScope


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "id", "occurred_at", "door", "actor_kind", "actor_id", "actor_label", "user_id",
            "object_type", "object_id", "object_label", "action", "changes", "account_id", "batch",
        ]  # fmt: skip
        read_only_fields = fields


class AdminsOnly(BasePermission):
    message = "Only admins and admin-scoped API keys read the audit trail."

    def has_permission(self, request, view) -> bool:
        return getattr(request.user, "api_key", None) is not None or may_read_trail(request.user)


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Every recorded change, newest first; filter by object, account, person, actor, door, action and time.
    Entries are append-only: there is no write method."""

    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    filterset_class = AuditFilterSet
    api_key_scopes = [ApiScope.ADMIN]

    def get_permissions(self):
        return [*super().get_permissions(), AdminsOnly()]
