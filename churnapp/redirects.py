"""Redirects to a `next` URL taken from the request, only when it stays on this site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest) -> str | None:
    """The request's `next` (POST, else GET) when it is a local URL (or this host's, same scheme), else None."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def redirect_next(request: HttpRequest, fallback: str, *args, **kwargs) -> HttpResponseRedirect:
    """Redirect to a safe `next`, otherwise to `fallback` (a URL name or path, resolved like `redirect`)."""
    return redirect(safe_next_url(request) or fallback, *args, **kwargs)
