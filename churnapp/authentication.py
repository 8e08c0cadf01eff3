"""API-key authentication, scope permission and per-key throttling for every DRF endpoint.

Accepted forms (all carry the same key `ck_<prefix>_<secret>`):
- `Authorization: Bearer <key>` (or `Token <key>`), or `X-Api-Key: <key>`;
- `Authorization: Basic base64(<key>:)`, the key as the username — how Segment clients send their write key.

Scopes: `read` allows safe methods (GET, HEAD, OPTIONS), `write` allows unsafe methods (CRM and helpdesk sync
included: accounts, contacts, subscriptions, tickets, surveys, tasks, activities, tags), `ingest` allows only the
endpoints that declare it — the tracking API (`/v1/…`) and event ingestion (`POST /api/v1/events/bulk/`) —, `admin`
allows everything. A view (or a viewset action) may narrow the scopes it accepts with `api_key_scopes = ("ingest",)`.
An ingest key lives in client apps and browsers, so it must never reach account data.
Session users (the browser) are not affected by scopes; their roles apply as before.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import SimpleRateThrottle

from churnapp.apikeys import KEY_PREFIX, api_key_authenticate
from churnapp.models import ApiKey, ApiScope

logger = logging.getLogger(__name__)
_WRITE_ACTIONS = ("add", "change", "delete")


class ApiKeyUser(AnonymousUser):
    """The principal of a request authenticated by an API key: no row in the users table, permissions by scope."""

    def __init__(self, key: ApiKey):
        self.api_key = key
        self.username = f"api-key:{key.name}"

    def __str__(self) -> str:
        return self.username

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj=None) -> bool:
        if self.api_key.has_scope(ApiScope.ADMIN):
            return True
        action = perm.rsplit(".", 1)[-1].split("_", 1)[0]
        if action == "view":
            return self.api_key.has_scope(ApiScope.READ)
        return action in _WRITE_ACTIONS and self.api_key.has_scope(ApiScope.WRITE)

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)


def _raw_key_from(request) -> str | None:
    header = get_authorization_header(request).decode("latin-1").strip()
    if header:
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme in ("bearer", "token") and value.startswith(KEY_PREFIX):
            return value
        if scheme == "basic":
            try:
                username = base64.b64decode(value, validate=True).decode("utf-8").partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                raise exceptions.AuthenticationFailed("Malformed Basic authorization header.") from None
            return username
    api_key = request.META.get("HTTP_X_API_KEY", "").strip()
    return api_key or None


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates integrations by API key; `request.auth` is the ApiKey, `request.user` an ApiKeyUser."""

    def authenticate(self, request):
        raw = _raw_key_from(request)
        if raw is None:
            return None
        key = api_key_authenticate(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return ApiKeyUser(key), key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to requests without credentials.
        return 'Bearer realm="churnapp"'


class HasApiKeyScope(BasePermission):
    """Enforces API-key scopes; requests without an API key (sessions) pass through to the other permissions."""

    message = "This API key's scopes do not allow this request."

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        if key.has_scope(ApiScope.ADMIN):
            return True
        accepted = getattr(view, "api_key_scopes", None)
        if accepted:
            return any(scope in key.scopes for scope in accepted)
        if request.method in SAFE_METHODS:
            return key.has_scope(ApiScope.READ)
        return key.has_scope(ApiScope.WRITE)


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per-key request rate (settings: REST_FRAMEWORK DEFAULT_THROTTLE_RATES["api_key"]); 429 with Retry-After."""

    scope = "api_key"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view) -> bool:
        # The counters live in the cache (Redis): when it is unreachable the throttle steps aside (fails open,
        # with a warning) rather than stopping ingestion, which needs only the database.
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            _warn_throttle_off(exc)
            return True


CACHE_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)
try:  # redis-py's errors do not derive from the builtin ones
    from redis.exceptions import RedisError

    CACHE_ERRORS += (RedisError,)
except ImportError:  # pragma: no cover - redis is a dependency
    pass
_last_warning = 0.0


def _warn_throttle_off(exc: BaseException) -> None:
    global _last_warning
    if time.monotonic() - _last_warning >= 30:  # once per 30 s per process during an outage
        _last_warning = time.monotonic()
        logger.warning("API-key throttling is off: the cache is unreachable (%s).", exc)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "churnapp.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key `ck_…` (Admin → API keys or `manage.py create_api_key`). Tracking endpoints "
            "also accept it as the Basic-auth username (Segment's write key). Scopes: `ingest` = tracking API and "
            "event ingestion only; `read` = GET; `write` = create, update, delete (CRM and helpdesk sync); "
            "`config` = the configuration API (`/api/v1/config/…`) only; `admin` = everything.",
        }
