from __future__ import annotations

from django.contrib.auth.middleware import LoginRequiredMiddleware as BaseLoginRequiredMiddleware

# Paths that authenticate per request (API keys, webhook signatures, DRF's own checks) rather than by
# redirecting to the login page; DRF still refuses unauthenticated requests there with 401/403.
MACHINE_PATH_PREFIXES = ("/api/", "/v1/", "/webhooks/")


class LoginRequiredMiddleware(BaseLoginRequiredMiddleware):
    """Every page needs a signed-in user, except the machine endpoints that answer with their own errors."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(MACHINE_PATH_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
