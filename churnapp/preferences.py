"""A person's own settings: the interface language."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from churnapp.models import UserPreference

LANGUAGE_CODES = frozenset(code for code, _ in settings.LANGUAGES)
# The signed-in person's language, copied into their session at login and at each switch: no query per request.
SESSION_KEY = "churnapp_language"


def session_language(request: HttpRequest) -> str:
    """The signed-in person's language from their session, read from the database once per session."""
    language = request.session.get(SESSION_KEY)
    if language is None:
        language = request.session[SESSION_KEY] = user_language(request.user)
    return language


def remember_language(sender, request: HttpRequest, user: AbstractBaseUser, **kwargs) -> None:
    """At login (signal user_logged_in): the person's stored choice into the new session."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = user_language(user)


def user_language(user: AbstractBaseUser) -> str:
    """The language `user` chose, or "" for "the browser's"."""
    return UserPreference.objects.filter(user=user).values_list("language", flat=True).first() or ""


def user_language_set(user: AbstractBaseUser, language: str, request: HttpRequest | None = None) -> None:
    """Store `user`'s language ("" = follow the browser); an unknown code is refused."""
    if language and language not in LANGUAGE_CODES:
        raise ValueError(f"unknown language {language!r}")
    UserPreference.objects.update_or_create(user=user, defaults={"language": language})
    if request is not None:
        request.session[SESSION_KEY] = language
