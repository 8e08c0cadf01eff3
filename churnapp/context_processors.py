from __future__ import annotations

from django.http import HttpRequest

from churnapp.roles import user_role


def navigation(request: HttpRequest) -> dict:
    """The signed-in user's role for the header and navigation."""
    return {"user_role": user_role(request.user) if hasattr(request, "user") else None}
