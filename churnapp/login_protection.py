"""Brute-force protection for the login forms (django-axes) and a throttle on password-reset emails.

- Logins (`/login/` and `/admin/login/`): after AXES_FAILURE_LIMIT failures for one username from one address,
  that pair is locked out for AXES_COOLOFF_TIME, the right password included; the login page says so. Attempts
  and lockouts are recorded by axes (AccessAttempt, AccessFailureLog) and listed in the admin.
- Password reset: at most PASSWORD_RESET_LIMIT_PER_ADDRESS requests per address and
  PASSWORD_RESET_LIMIT_PER_IP per client address within PASSWORD_RESET_WINDOW seconds. The limit counts
  requests, whether or not an account uses the address, so the answer tells nothing about who has an account.
"""

from __future__ import annotations

import hashlib
import ipaddress

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_ip_address, get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

PASSWORD_RESET_THROTTLED_MESSAGE = (
    "Too many password reset requests for this address or from your network. "
    "Please wait an hour before asking again; if a reset e-mail was sent, its link still works."
)


def client_ip(request: HttpRequest) -> str | None:
    """The address a login or reset request came from: REMOTE_ADDR or, behind TRUSTED_PROXY_COUNT proxies that
    each append the address they were reached from to X-Forwarded-For, the entry the outermost one appended. A
    client can put entries before those, never replace them; a malformed entry falls back to REMOTE_ADDR."""
    count = settings.TRUSTED_PROXY_COUNT
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
    if count > 0 and entries:
        candidate = entries[-min(count, len(entries))]
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")


class LoginLockoutBackend(AxesStandaloneBackend):
    """Refuses logins from a locked-out username and address before any password is checked.

    Authentication that has no HTTP request (management commands, the test client's `login()`) has no address to
    lock out, so it is left to the next backend; every login form passes its request.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message(request: HttpRequest) -> str:
    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else None
    wait = f"Try again in {minutes} minute{'s' if minutes != 1 else ''}" if minutes else "Ask an admin to unlock it"
    return (
        f"Too many failed login attempts: this username is locked out from your address. {wait}, "
        "or reset your password."
    )


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None):
    """The app's login page with the lockout message, answered with 429 (AXES_LOCKOUT_CALLABLE)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {"form": form, "lockout_message": lockout_message(request), "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


def _within_limit(key: str, *, limit: int, window: int) -> bool:
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def password_reset_allowed(*, request: HttpRequest, email: str) -> bool:
    """Count one reset request for `email` and the client's address; False once either is over its limit."""
    window = settings.PASSWORD_RESET_WINDOW
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    ip = get_client_ip_address(request) or "unknown"
    by_address = _within_limit(
        f"password-reset:address:{digest}", limit=settings.PASSWORD_RESET_LIMIT_PER_ADDRESS, window=window
    )
    by_ip = _within_limit(f"password-reset:ip:{ip}", limit=settings.PASSWORD_RESET_LIMIT_PER_IP, window=window)
    return by_address and by_ip
