"""A session opened through single sign-on: checked again at the provider once its ID token is old (pages are sent
there with prompt=none, HTMX fragments reload their page, the API answers 403), and ended as soon as the local user
is deactivated. Password sessions and SSO turned off are left alone."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

import pytest

from churnapp.sso import forget_provider_metadata
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SSO_BACKEND = "churnapp.sso.SSOBackend"
AUTHORIZE = "https://id.example.com/authorize"


@pytest.fixture
def sso_on(settings):
    settings.OIDC_ISSUER = ""
    settings.OIDC_RP_CLIENT_ID = "churnapp"
    settings.OIDC_RP_CLIENT_SECRET = "s3cret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = AUTHORIZE
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://id.example.com/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://id.example.com/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://id.example.com/jwks"
    return settings


def _signed_in(client, *, backend=SSO_BACKEND, expired=True):
    user = UserFactory(username="sue", role="CSM")
    client.force_login(user, backend=backend)
    session = client.session
    session["oidc_id_token_expiration"] = 0 if expired else 2**40
    session.save()
    return user


def test_an_old_sso_session_is_sent_to_the_provider_without_a_prompt(client, sso_on):
    _signed_in(client)
    response = client.get("/accounts/?q=acme")
    assert response.status_code == 302 and response["Location"].startswith(AUTHORIZE + "?")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["prompt"] == ["none"] and query["client_id"] == ["churnapp"]
    assert query["redirect_uri"] == ["http://testserver/oidc/callback/"]
    assert client.session["oidc_login_next"] == "/accounts/?q=acme"


def test_a_fresh_sso_session_is_left_alone(client, sso_on):
    _signed_in(client, expired=False)
    assert client.get("/accounts/").status_code == 200


def test_an_htmx_fragment_reloads_its_page_instead_of_following_the_provider(client, sso_on):
    _signed_in(client)
    response = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Refresh"] == "true"


def test_the_api_answers_403_with_where_to_sign_in_again(client, sso_on):
    _signed_in(client)
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 403 and response.json()["refresh_url"].startswith(AUTHORIZE)


def test_password_sessions_and_sso_turned_off_are_not_refreshed(client, sso_on, settings):
    _signed_in(client, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/accounts/").status_code == 200
    client.logout()
    _signed_in(client)
    settings.OIDC_RP_CLIENT_ID = ""
    assert client.get("/accounts/").status_code == 200


def test_a_deactivated_user_loses_an_sso_session_at_once(client, sso_on):
    user = _signed_in(client, expired=False)
    user.is_active = False
    user.save()
    assert "login/" in client.get("/accounts/")["Location"]


def test_an_unreachable_provider_at_the_check_is_an_error_page(client, sso_on, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.OIDC_ISSUER = f"http://127.0.0.1:{port}/o"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = ""  # discovered, from a provider that does not answer
    forget_provider_metadata()
    _signed_in(client)
    response = client.get("/accounts/")
    assert response.status_code == 503 and "cannot be reached" in response.content.decode()
