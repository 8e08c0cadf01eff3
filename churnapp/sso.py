"""Single sign-on with OpenID Connect, on mozilla-django-oidc (authorization code flow with PKCE, state and nonce).

- Off unless `OIDC_RP_CLIENT_ID` and `OIDC_ISSUER` (or explicit endpoints) are set. The endpoints come from the
  issuer's `/.well-known/openid-configuration`, fetched on first use and kept for the life of the process; an
  unreachable provider is an error page for the person signing in, never a failed start-up.
- `SSOBackend`: the ID token's RS256 signature is checked with the provider's JWKS (and its issuer and audience
  here); the person is matched to a user by e-mail (case-insensitive) or created just in time with an unusable
  password; their role follows the groups claim (`OIDC_ROLE_MAP`) at every sign-in; deactivated users stay out.
- `PasswordLoginGate`: with `SSO_ONLY`, a password is refused for everyone outside `SSO_BREAK_GLASS_USERS`,
  whichever form sent it (the login page, the Django admin's login).
"""

from __future__ import annotations

import logging
import threading

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from churnapp import sso_settings
from churnapp.roles import Role

logger = logging.getLogger(__name__)

# The library's endpoint settings → the discovery document's keys.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
# When a person's groups map to several roles, the broadest wins.
ROLES_BROADEST_FIRST = (Role.ADMIN, Role.MANAGER, Role.CSM, Role.VIEWER)

_discovered: dict[str, dict] = {}
_discovery_lock = threading.Lock()


class ProviderUnavailable(Exception):
    """The OpenID provider could not be reached, or its discovery document is unusable."""


def sso_enabled() -> bool:
    return bool(
        getattr(settings, "OIDC_RP_CLIENT_ID", "")
        and (getattr(settings, "OIDC_ISSUER", "") or getattr(settings, "OIDC_OP_AUTHORIZATION_ENDPOINT", ""))
    )


def sso_only() -> bool:
    return sso_enabled() and bool(getattr(settings, "SSO_ONLY", False))


def password_login_allowed(username: str | None) -> bool:
    """False in SSO-only mode for anyone but the break-glass users (exact usernames)."""
    return not sso_only() or (username or "") in getattr(settings, "SSO_BREAK_GLASS_USERS", [])


def login_options(request: HttpRequest) -> dict:
    """Template context: whether the login and password pages offer SSO, and whether passwords are turned off."""
    return {"sso_enabled": sso_enabled(), "sso_only": sso_only()}


def is_sso_callback(request: HttpRequest, credentials=None) -> bool:
    """AXES_WHITELIST_CALLABLE: the provider's callback carries no password, so a refused sign-in there counts for no
    lockout (its username is empty: counting it would lock every SSO sign-in from that address out)."""
    return request is not None and request.path == reverse("oidc_authentication_callback")


def provider_metadata() -> dict:
    """The issuer's discovery document, fetched once per process (a failure is not kept: the next call retries)."""
    issuer = settings.OIDC_ISSUER.rstrip("/")
    if not issuer:
        raise ProviderUnavailable("OIDC_ISSUER is not set and an endpoint is missing.")
    url = f"{issuer}/.well-known/openid-configuration"
    with _discovery_lock:
        if url in _discovered:
            return _discovered[url]
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"{url}: {exc}") from exc
        if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer:
            raise ProviderUnavailable(f"{url} names another issuer than {issuer}.")
        missing = [key for key in ENDPOINTS.values() if not document.get(key)]
        if missing:
            raise ProviderUnavailable(f"{url} lacks {', '.join(missing)}.")
        _discovered[url] = document
        return document


def forget_provider_metadata() -> None:
    with _discovery_lock:
        _discovered.clear()


def oidc_setting(attr: str, *default):
    """mozilla-django-oidc's settings, with each endpoint taken from the discovery document unless set explicitly."""
    if attr in ENDPOINTS:
        return getattr(settings, attr, "") or provider_metadata()[ENDPOINTS[attr]]
    return import_from_settings(attr, *default)


def sso_error_response(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """The page a person sees when single sign-on cannot go on: what happened, and a way to try again."""
    return render(request, "registration/sso_error.html", {"message": message}, status=status)


def provider_unavailable_response(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.warning("Single sign-on: the OpenID provider is unavailable (%s)", exc)
    message = gettext("The sign-in provider cannot be reached right now. Try again in a few minutes.")
    return sso_error_response(request, message, status=503)


def role_map() -> dict[str, Role]:
    """OIDC_ROLE_MAP as {group name in lower case: role}. The settings parse and check it (`sso_settings.role_map`);
    an override written as in the environment ("group=Role,group=Role") goes through the same parser."""
    raw = settings.OIDC_ROLE_MAP
    if isinstance(raw, str):
        raw = sso_settings.role_map([item for item in raw.split(",") if item.strip()])
    return {group.strip().lower(): Role(sso_settings.role_name(role, "OIDC_ROLE_MAP")) for group, role in raw.items()}


def role_for_groups(groups) -> Role | None:
    """The broadest role the groups map to; OIDC_DEFAULT_ROLE (or None) when they map to none."""
    if isinstance(groups, str):
        groups = [groups]
    mapping = role_map()
    roles = {mapping[g.strip().lower()] for g in groups or [] if isinstance(g, str) and g.strip().lower() in mapping}
    for role in ROLES_BROADEST_FIRST:
        if role in roles:
            return role
    default = getattr(settings, "OIDC_DEFAULT_ROLE", "").strip().lower()
    return next((role for role in Role if role.value.lower() == default), None) if default else None


class PasswordLoginGate:
    """Refuses a password for anyone outside SSO_BREAK_GLASS_USERS in SSO-only mode, whichever form sent it.
    It has no `get_user`, so it is never the backend of a session."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if password is not None and not password_login_allowed(username):
            raise PermissionDenied("Password sign-in is turned off (SSO_ONLY).")
        # Otherwise no opinion (None): the next backends check the password.


def _setting_property(name: str) -> property:
    return property(lambda self: oidc_setting(name))


class SSOBackend(OIDCAuthenticationBackend):
    """OpenID Connect sign-in: users matched by e-mail or created just in time, their role from the groups claim.

    A refusal says why on `request.sso_refusal`, which the callback view shows."""

    OIDC_OP_TOKEN_ENDPOINT = _setting_property("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _setting_property("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _setting_property("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_CLIENT_ID = _setting_property("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = _setting_property("OIDC_RP_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = _setting_property("OIDC_RP_SIGN_ALGO")
    OIDC_RP_IDP_SIGN_KEY = None  # always the provider's JWKS

    def __init__(self, *args, **kwargs):
        # Not the library's __init__: it reads every endpoint, and a backend is built for each request of a signed-in
        # person and each password login. Endpoints resolve on first use instead (the properties above).
        self.UserModel = get_user_model()

    get_settings = staticmethod(oidc_setting)

    def authenticate(self, request, **kwargs):
        if not sso_enabled():
            return None
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id):
        """As ModelBackend: a deactivated user's session ends with the next request."""
        return ModelBackend.get_user(self, user_id)

    def verify_token(self, token, **kwargs):
        """The library checks the signature (RS256, the provider's JWKS), expiry and nonce; the issuer and audience
        are checked here."""
        try:
            payload = super().verify_token(token, **kwargs)
        except jwt.PyJWTError as exc:  # expired, not yet valid…: the library turns only a bad signature into this
            raise SuspiciousOperation(f"The ID token is not valid: {exc}") from exc
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token is meant for another client.")
        issuer = settings.OIDC_ISSUER.rstrip("/")
        if issuer and str(payload.get("iss", "")).rstrip("/") != issuer:
            raise SuspiciousOperation("The ID token comes from another issuer.")
        return payload

    def _refuse(self, message: str) -> None:
        logger.info("Single sign-on refused: %s", message)
        self.request.sso_refusal = message

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another person than the ID token.")
        # Some providers put the groups only in the ID token.
        claims = {**payload, **claims}
        email = (claims.get("email") or "").strip()
        if not email or claims.get("email_verified") is False:
            return self._refuse(gettext("The sign-in provider gave no confirmed e-mail address for you."))
        role = role_for_groups(claims.get(settings.OIDC_GROUPS_CLAIM))
        if role is None:
            return self._refuse(
                gettext("Your groups at the sign-in provider give you no role in churnapp. Ask an administrator.")
            )
        users = list(self.UserModel.objects.filter(email__iexact=email)[:2])
        if len(users) > 1:
            return self._refuse(gettext("More than one churnapp user has your e-mail address. Ask an administrator."))
        if users and not users[0].is_active:
            return self._refuse(gettext("Your churnapp user is deactivated. Ask an administrator."))
        with transaction.atomic():
            user = users[0] if users else self.create_user(claims)
            self.update_user(user, claims, role)
        return user

    def create_user(self, claims):
        """A user for a person seen for the first time; they sign in through the provider only."""
        email = claims["email"].strip()
        user = self.UserModel(
            username=self._free_username(claims.get("preferred_username") or email, email), email=email
        )
        user.set_unusable_password()
        user.save()
        logger.info("Single sign-on created the user %s", user.username)
        return user

    def _free_username(self, wanted: str, email: str) -> str:
        taken = self.UserModel.objects.filter
        for candidate in (wanted[:150], email[:150]):
            if candidate and not taken(username=candidate).exists():
                return candidate
        number = 2
        while taken(username=f"{wanted[:140]}-{number}").exists():
            number += 1
        return f"{wanted[:140]}-{number}"

    def update_user(self, user, claims, role: Role | None = None):
        """Names from the claims and the role from the groups, at every sign-in."""
        for field, claim in (("first_name", "given_name"), ("last_name", "family_name")):
            if isinstance(claims.get(claim), str) and claims[claim]:
                setattr(user, field, claims[claim][:150])
        if role is not None:
            user.is_staff = user.is_superuser = role == Role.ADMIN  # as `manage.py create_user --role admin`
            user.save()
            user.groups.remove(*Group.objects.filter(name__in=[r.value for r in Role]).exclude(name=role.value))
            user.groups.add(Group.objects.get(name=role.value))
        else:
            user.save()
        return user
