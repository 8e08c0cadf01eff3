"""Bulk edits over the API: the accounts list's bulk edit for a person's scripts and tools. The same service as the
page prepares a draft on chosen accounts or on every account matching filters, counts those the caller may not
edit, then runs on confirmation (small ones at once, large ones in a worker, with progress to poll).

A bulk edit is a person's act, checked account by account against their role: API keys, whose writes are row
upserts (`POST /api/v1/accounts/bulk/`), cannot make one.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from accounts import selectors
from accounts.filters import InvalidFilters, bulk_selection
from accounts.models import BulkEdit
from accounts.services import bulk_edits

MAX_CHOSEN = 10_000  # ids named in one request; larger selections are made with filters


class BulkEditSerializer(serializers.ModelSerializer):
    total = serializers.IntegerField(read_only=True, help_text="Accounts the edit changes (those the caller may edit).")

    class Meta:
        model = BulkEdit
        fields = [
            "id",
            "action",
            "params",
            "summary",
            "scope",
            "query",
            "status",
            "total",
            "not_editable_count",
            "processed",
            "changed",
            "unchanged",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class BulkEditInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[], help_text="What to change: owner, status, stage, tag_add, …")
    value = serializers.CharField(
        allow_blank=True,
        default="",
        max_length=100,
        help_text="The new value: a user id (owner), a status or stage code, a tag name, an attribute's value.",
    )
    key = serializers.CharField(allow_blank=True, default="", max_length=64, help_text="The custom attribute's name.")
    accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=MAX_CHOSEN,
        help_text="The ids of the chosen accounts. Give either this or `filters`.",
    )
    filters = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=200),
        required=False,
        help_text='Every account matching these filters of GET /api/v1/accounts/ (e.g. {"status": "at_risk"}).',
    )
    confirm = serializers.BooleanField(default=False, help_text="Start at once instead of leaving a draft.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [a.key for a in bulk_edits.actions()]

    def validate(self, data):
        if ("accounts" in data) == ("filters" in data):
            raise serializers.ValidationError({"non_field_errors": [_("Give either `accounts` or `filters`.")]})
        return data


class PeopleWhoEditAccounts(BasePermission):
    """Signed-in people whose role changes accounts; API keys never (see the module's docstring)."""

    def has_permission(self, request, view) -> bool:
        if getattr(request.user, "api_key", None) is not None:
            raise exceptions.PermissionDenied(_("Bulk edits are made by a signed-in person, not by an API key."))
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("accounts.change_account"))


@extend_schema(tags=["bulk-edits"])
class BulkEditViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bulk edits on accounts: status, lifecycle stage, tags, owner, custom attributes, playbook enrolment."""

    serializer_class = BulkEditSerializer
    permission_classes = [PeopleWhoEditAccounts]

    def get_queryset(self):
        return selectors.bulk_edits_visible_to(self.request.user)

    @extend_schema(
        request=BulkEditInputSerializer,
        responses={
            201: BulkEditSerializer,
            400: OpenApiResponse(description="Invalid action, value, filters or selection; nothing prepared."),
            403: OpenApiResponse(description="The action is beyond the caller's role, or an API key asked."),
        },
    )
    def create(self, request, *args, **kwargs):
        """Prepare a bulk edit (a draft showing how many accounts it changes); with `confirm`, start it too."""
        data = BulkEditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        query = urlencode(params["filters"]) if "filters" in params else None
        try:
            scope, query, accounts = bulk_selection(request, query=query, ids=params.get("accounts", ()))
        except InvalidFilters as exc:
            raise exceptions.ValidationError({"filters": exc.errors}) from exc
        try:
            job = bulk_edits.bulk_edit_prepare(
                actor=request.user,
                action=params["action"],
                value=params["value"],
                key=params["key"],
                scope=scope,
                query=query,
                accounts=accounts,
            )
            if params["confirm"]:
                job = bulk_edits.bulk_edit_confirm(job=job, actor=request.user)
        except bulk_edits.BulkEditInvalid as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(BulkEditSerializer(job).data, status=status.HTTP_201_CREATED)

    def _act(self, request, service) -> Response:
        job = self.get_object()
        try:
            job = service(job=job, actor=request.user)
        except bulk_edits.BulkEditInvalid as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(BulkEditSerializer(job).data)

    @extend_schema(request=None, responses={200: BulkEditSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Start a draft the caller prepared: small edits are done when this answers, large ones run in a worker
        (poll the edit for `processed`, `changed` and `status`)."""
        return self._act(request, bulk_edits.bulk_edit_confirm)

    @extend_schema(request=None, responses={200: BulkEditSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a draft, or stop a running edit after its current chunk (what ran stays done)."""
        return self._act(request, bulk_edits.bulk_edit_cancel)
