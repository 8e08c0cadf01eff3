"""What every configuration endpoint shares: who may read and write, the services' refusals as API errors (400 per
field, 403, 409), and the OpenAPI bits.

API keys need the `config` scope (or `admin`); session users read as every signed-in role reads the pages, and
write when they configure (managers and admins). Outgoing webhooks are for admins only, as on their page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated

from automations.removal import InUse
from churnapp.authentication import HasApiKeyScope
from churnapp.openapi import DETAIL_ERROR
from churnapp.parsers import BoundedJSONParser
from churnapp.roles import can_configure

TAGS = ["configuration"]
KEY_REGEX = r"[^/]+"  # any key reaches the view, which answers a JSON 404 for unknown ones
IN_USE = OpenApiResponse(DETAIL_ERROR, description="Refused: other configuration still uses it (named).")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Refused: the object is still in use."
    default_code = "conflict"


def _is_key(request) -> bool:
    return getattr(request.user, "api_key", None) is not None


def actor_of(request):
    """The actor the services check and record: None (the system) for API keys, whose scope was already checked."""
    return None if _is_key(request) else request.user


class ConfigurePermission(BasePermission):
    """Reads for every signed-in role; writes for managers and admins (API keys: by scope, checked before)."""

    message = "Only managers and admins change the configuration."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or _is_key(request) or can_configure(request.user)


class AdminPermission(BasePermission):
    """Admins only, reads included (API keys: by scope, checked before)."""

    message = "Only admins manage integrations."

    def has_permission(self, request, view) -> bool:
        return _is_key(request) or request.user.has_perm("churnapp.add_apikey")


class ConfigViewSet(viewsets.GenericViewSet):
    """The base of every configuration viewset: `config` (or `admin`) keys, bounded JSON, lookup by key."""

    api_key_scopes: tuple[str, ...] = ("config",)
    permission_classes = [IsAuthenticated, HasApiKeyScope, ConfigurePermission]
    parser_classes = [BoundedJSONParser]
    lookup_field = "key"
    lookup_value_regex = KEY_REGEX

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "actor": actor_of(self.request)}


class CrudViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ConfigViewSet,
):
    """List, create, retrieve, update (PUT / PATCH) and delete. Serializers save through the app's services; the
    viewset turns a service's refusal into a 400 naming the field (`refusal_field`), or a 409 for a deletion."""

    refusal_field = "non_field_errors"

    def perform_create(self, serializer) -> None:
        with refusals(self.refusal_field):
            serializer.save()

    def perform_update(self, serializer) -> None:
        with refusals(self.refusal_field):
            serializer.save()

    def perform_destroy(self, instance) -> None:
        with refusals(self.refusal_field):
            self.remove(instance)

    def remove(self, instance) -> None:
        raise NotImplementedError


def _messages(exc: DjangoValidationError, field: str) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (field if name == "__all__" else name): [str(m) for m in errors]
            for name, errors in exc.message_dict.items()
        }
    return {field: [str(m) for m in exc.messages]}


@contextmanager
def refusals(field: str = "non_field_errors") -> Iterator[None]:
    """A service's refusal as the API's error: a model or service validation error → 400 per field (`field` for
    messages that name none), still in use → 409; Django's PermissionDenied stays a 403."""
    try:
        yield
    except InUse as exc:
        raise Conflict(str(exc)) from exc
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(_messages(exc, field)) from exc
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        # The services' own refusals (RuleInvalid, PlaybookInvalid, JourneyInvalid … are ValueErrors) and what a
        # malformed nested JSON value makes a validator trip on: the input is wrong, never a server error.
        message = str(exc) if isinstance(exc, ValueError) else _("Malformed value: %(error)s") % {"error": exc}
        raise exceptions.ValidationError({field: [message]}) from exc


def validated_by(check, value, *errors: type[Exception]):
    """Run an app's validator on one field's value; its refusal becomes that field's message."""
    try:
        check(value)
    except errors as exc:
        raise exceptions.ValidationError(str(exc)) from exc
    except (TypeError, KeyError, AttributeError, IndexError, ValueError) as exc:
        raise exceptions.ValidationError(_("Malformed value: %(error)s") % {"error": exc}) from exc
    return value
