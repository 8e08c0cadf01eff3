from __future__ import annotations

import logging

from django.contrib.auth.middleware import LoginRequiredMiddleware as BaseLoginRequiredMiddleware
from django.db import InterfaceError
from django.db import OperationalError as DatabaseUnavailable
from django.http import JsonResponse
from django.utils import translation
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from churnapp.preferences import session_language

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30

# Paths that authenticate per request (API keys, webhook signatures, DRF's own checks) rather than by
# redirecting to the login page; DRF still refuses unauthenticated requests there with 401/403.
MACHINE_PATH_PREFIXES = ("/api/", "/v1/", "/webhooks/")


class LoginRequiredMiddleware(BaseLoginRequiredMiddleware):
    """Every page needs a signed-in user, except the machine endpoints that answer with their own errors."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(MACHINE_PATH_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class UserLanguageMiddleware:
    """A signed-in user's chosen language wins over the browser's; without a choice LocaleMiddleware's stands."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = session_language(request) if request.user.is_authenticated else ""
        if language and language != request.LANGUAGE_CODE:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class DependencyUnavailableMiddleware:
    """A request that fails because the broker, the cache or the database is unreachable answers a JSON 503 with
    `Retry-After` (clients and load balancers retry it) instead of an HTML 500. Writes are transactional, so
    nothing of such a request is half-stored."""

    errors = (BrokerUnavailable, RedisConnectionError, RedisTimeoutError, DatabaseUnavailable, InterfaceError)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, self.errors):
            return None
        logger.warning("%s %s: dependency unavailable (%s: %s)", request.method, request.path,
                       type(exception).__name__, str(exception)[:200])  # fmt: skip
        body = {"detail": "A service this request needs is unavailable; nothing was stored. Retry later.",
                "retry_after": RETRY_AFTER_SECONDS}  # fmt: skip
        return JsonResponse(body, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
