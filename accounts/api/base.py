"""Shared machinery of the accounts REST API: bounded JSON parsing, write permissions, upsert and bulk actions."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.metadata import SimpleMetadata
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from accounts import serializers as s
from accounts.imports import services
from churnapp.parsers import MAX_BODY_BYTES, BoundedJSONParser, PayloadTooLarge
from churnapp.roles import can_edit_account

__all__ = ["MAX_BODY_BYTES", "BoundedJSONParser", "PayloadTooLarge"]

_PERM_ACTION = {"POST": ("add", "change"), "PUT": ("add", "change"), "PATCH": ("change",), "DELETE": ("delete",)}


class AccountsWritePermission(BasePermission):
    """Writes by a signed-in user need the model permissions of their role (API keys are checked by scope)."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or getattr(request.user, "api_key", None) is not None:
            return True
        model = view.queryset.model if view.queryset is not None else view.get_queryset().model
        actions = _PERM_ACTION.get(request.method, ("change",))
        return request.user.has_perms([f"accounts.{a}_{model._meta.model_name}" for a in actions])

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or getattr(request.user, "api_key", None) is not None:
            return True
        account = obj if obj.__class__.__name__ == "Account" else getattr(obj, "account", None)
        return account is None or can_edit_account(request.user, account)


def actor_of(request):
    """The actor passed to services: None (the system) for API keys, whose scopes were already checked."""
    return None if getattr(request.user, "api_key", None) is not None else request.user


def _single_errors(exc: services.RowErrors) -> dict:
    return exc.errors[0]["errors"] if exc.errors else {"non_field_errors": ["Invalid input."]}


BULK_RESPONSES = {
    200: s.BulkResultSerializer,
    400: OpenApiResponse(s.BulkErrorSerializer, description="Invalid rows, each with its index; nothing written."),
    403: OpenApiResponse(
        s.BulkErrorSerializer,
        description="Rows on accounts the caller may not edit (existing objects included), each with its index; "
        "nothing written.",
    ),
}


class DescriptionOnlyMetadata(SimpleMetadata):
    """OPTIONS answers name, description and media types; the request bodies are in the OpenAPI schema."""

    def determine_actions(self, request, view):
        return {}


class CrudViewSet(viewsets.ModelViewSet):
    """CRUD through the upsert services, plus an all-or-nothing `POST bulk/`.

    Subclasses set `kind` (a key of accounts.imports.services.KINDS), the output `serializer_class` and the
    `input_serializer_class` used for the documented request bodies.
    """

    kind: str = ""
    input_serializer_class = None
    lookup_value_regex = r"[^/]+"  # any id reaches the view, which answers a JSON 404 for non-numbers
    # CRM and helpdesk sync (single, by external id and bulk) needs `write`; `ingest` reaches tracking and events only.
    api_key_scopes: tuple[str, ...] | None = None
    parser_classes = [BoundedJSONParser]
    metadata_class = DescriptionOnlyMetadata
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_permissions(self):
        return [*super().get_permissions(), AccountsWritePermission()]

    def _respond(self, obj, action_name: str) -> Response:
        code = status.HTTP_201_CREATED if action_name == "created" else status.HTTP_200_OK
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=code)

    def _upsert(self, row) -> Response:
        if not isinstance(row, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send one JSON object."]})
        try:
            obj, action_name = services.upsert_one(kind=self.kind, row=row, actor=actor_of(self.request))
        except services.RowsForbidden as exc:
            raise exceptions.PermissionDenied({"detail": str(exc), **_single_errors(exc)}) from exc
        except services.RowErrors as exc:
            raise exceptions.ValidationError(_single_errors(exc)) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        if obj is None:  # a ticket of an account not known yet: kept and attached when the account appears
            detail = f"Unknown account {row.get('account')!r}: kept and attached when the account appears."
            return Response({"status": "pending", "detail": detail}, status=status.HTTP_202_ACCEPTED)
        return self._respond(obj, action_name)

    def create(self, request, *args, **kwargs):
        return self._upsert(request.data)

    def perform_destroy(self, instance) -> None:
        services.delete_one(kind=self.kind, obj=instance)

    def update(self, request, *args, **kwargs):
        obj = self.get_object()
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send one JSON object."]})
        try:
            obj = services.update_one(kind=self.kind, obj=obj, changes=request.data, actor=actor_of(request))
        except services.RowErrors as exc:
            raise exceptions.ValidationError(_single_errors(exc)) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return self._respond(obj, "updated")

    @extend_schema(summary="Bulk upsert (≤ 1000 rows, all or nothing)", responses=BULK_RESPONSES)
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        rows = request.data.get("rows") if isinstance(request.data, dict) else request.data
        if not isinstance(rows, list):
            raise exceptions.ParseError('Send a JSON array of rows (or {"rows": [...]}).')
        try:
            result = services.bulk_upsert(kind=self.kind, rows=rows, actor=actor_of(request))
        except services.RowsForbidden as exc:
            return Response({"detail": str(exc), "errors": exc.errors}, status=status.HTTP_403_FORBIDDEN)
        except services.RowErrors as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(result.as_dict())


class UpsertViewSet(CrudViewSet):
    """CrudViewSet plus upsert by external id: `PUT by-external-id/{external_id}/` (201 created, 200 updated)."""

    @extend_schema(
        summary="Create or update by external id",
        parameters=[OpenApiParameter("external_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: None, 201: None},
    )
    @action(detail=False, methods=["put"], url_path=r"by-external-id/(?P<external_id>[^/]+)")
    def by_external_id(self, request, external_id: str):
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Send one JSON object."]})
        return self._upsert({**request.data, "external_id": external_id})
