"""The doors of single sign-on: "Sign in with SSO" and the provider's callback (404 while SSO is off), and the login
and password-reset pages as SSO-only mode needs them (no password for anyone outside the break-glass users)."""

from __future__ import annotations

import logging

import requests
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.http import Http404
from django.utils.translation import gettext
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from churnapp.sso import (
    ProviderUnavailable,
    oidc_setting,
    password_login_allowed,
    provider_unavailable_response,
    sso_enabled,
    sso_error_response,
)
from churnapp.views import PasswordResetConfirmView, PasswordResetView

logger = logging.getLogger(__name__)


def _password_refusal() -> str:
    return gettext("Password sign-in is turned off here: use “Sign in with SSO”.")


class SSOAwareAuthenticationForm(AuthenticationForm):
    """In SSO-only mode a password is refused, before it is checked, for anyone outside the break-glass users."""

    def clean(self):
        if not password_login_allowed(self.cleaned_data.get("username")):
            raise ValidationError(_password_refusal(), code="sso_only")
        return super().clean()


class LoginView(auth_views.LoginView):
    authentication_form = SSOAwareAuthenticationForm
    redirect_authenticated_user = True


class _SSODoor:
    """Answers 404 while SSO is off; a provider that cannot be reached is an error page, not a crash."""

    def dispatch(self, request, *args, **kwargs):
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            return super().dispatch(request, *args, **kwargs)
        except requests.HTTPError as exc:  # the provider answered, and refused (an expired or replayed code)
            logger.warning("Single sign-on: the provider refused a request (%s)", exc)
            return sso_error_response(request, gettext("This sign-in could not be verified. Start again."), status=400)
        except (ProviderUnavailable, requests.RequestException) as exc:
            return provider_unavailable_response(request, exc)


class SSOAuthenticateView(_SSODoor, OIDCAuthenticationRequestView):
    """Sends the browser to the provider's authorization endpoint, with state, nonce and a PKCE challenge kept in
    the session; `next` is kept only when it stays on this host."""

    OIDC_OP_AUTH_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT"))
    OIDC_RP_CLIENT_ID = property(lambda self: oidc_setting("OIDC_RP_CLIENT_ID"))
    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs):
        # Not the library's __init__: it reads the endpoint, which may need the provider, before dispatch can answer.
        View.__init__(self, **kwargs)


class SSOCallbackView(_SSODoor, OIDCAuthenticationCallbackView):
    """The provider sends the browser back here with a code (checked against the session's state; the ID token's
    nonce too) or with an error."""

    get_settings = staticmethod(oidc_setting)

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except SuspiciousOperation as exc:
            logger.warning("Single sign-on: a callback failed its checks (%s)", exc)
            message = gettext("This sign-in could not be verified. Start again.")
            return sso_error_response(request, message, status=400)

    def login_failure(self):
        message = getattr(self.request, "sso_refusal", "")
        if not message and self.request.GET.get("error") == "login_required":
            message = gettext("Your session at the sign-in provider has ended. Sign in again.")
        if not message and getattr(self, "user", None) is not None and not self.user.is_active:
            message = gettext("Your churnapp user is deactivated. Ask an administrator.")
        return sso_error_response(request=self.request, message=message or gettext("Sign-in failed."), status=403)


class SSOPasswordResetForm(PasswordResetForm):
    """In SSO-only mode, reset e-mails go to break-glass users only (the page answers the same either way)."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if password_login_allowed(user.get_username()))


class SSOPasswordResetView(PasswordResetView):
    form_class = SSOPasswordResetForm


class SSOPasswordResetConfirmView(PasswordResetConfirmView):
    """In SSO-only mode a reset link is invalid for anyone outside the break-glass users."""

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and password_login_allowed(user.get_username()) else None


sso_authenticate = login_not_required(SSOAuthenticateView.as_view())
sso_callback = login_not_required(SSOCallbackView.as_view())
