"""Single sign-on against a real OpenID provider in its own process (django-oauth-toolkit): the code flow with
churnapp's views and backend, users created just in time or matched by e-mail, roles from groups, refusals."""

from __future__ import annotations

import socket
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import SuspiciousOperation

from churnapp.roles import Role, user_role
from churnapp.sso import SSOBackend
from tests.factories import UserFactory
from tests.oidc_provider.harness import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.django_db
User = get_user_model()
LOGIN = "/auth/login/"  # settings.LOGIN_URL


def _person(username, groups, *, email=None, active=True):
    return {
        "username": username,
        "password": f"pw-{username}-123",
        "email": email or f"{username}@example.com",
        "groups": groups,
        "active": active,
        "first_name": username.title(),
    }


def _signed_in_user(client):
    response = client.get("/")
    assert response.status_code == 200, response.status_code
    return response.wsgi_request.user


def test_a_new_person_is_created_just_in_time_with_the_role_of_their_group(oidc_provider, provider_browser, client):
    oidc_provider.seed(users=[_person("mia", ["cs-managers", "staff-all"])])

    response = provider_browser.sign_in("mia", "pw-mia-123", next_url="/accounts/")

    assert response.status_code == 302 and response["Location"] == "/accounts/"
    user = User.objects.get(email="mia@example.com")
    assert user.username == "mia" and user.first_name == "Mia"
    assert not user.has_usable_password()
    assert user_role(user) == Role.MANAGER and not user.is_superuser
    assert _signed_in_user(client) == user


def test_an_existing_user_is_matched_by_email_whatever_its_case_and_gets_the_mapped_role(
    oidc_provider, provider_browser, client
):
    ana = UserFactory(username="ana.local", email="Ana.Smith@Example.com", role="Viewer")
    oidc_provider.seed(users=[_person("ana", ["cs-team"], email="ana.smith@example.com")])

    provider_browser.sign_in("ana", "pw-ana-123")

    assert _signed_in_user(client) == ana
    assert User.objects.filter(email__iexact="ana.smith@example.com").count() == 1
    ana.refresh_from_db()
    assert user_role(ana) == Role.CSM  # the Viewer group is gone: one role, the provider's


def test_the_role_follows_the_groups_at_every_sign_in(oidc_provider, provider_browser, client):
    oidc_provider.seed(users=[_person("ben", ["cs-managers"])])
    provider_browser.sign_in("ben", "pw-ben-123")
    assert user_role(User.objects.get(username="ben")) == Role.MANAGER
    client.post("/logout/")

    oidc_provider.seed(users=[_person("ben", ["cs-team"])])
    provider_browser.sign_in("ben", "pw-ben-123")

    ben = User.objects.get(username="ben")
    assert user_role(ben) == Role.CSM
    assert [g.name for g in ben.groups.all()] == ["CSM"]


def test_admins_group_makes_an_admin(oidc_provider, provider_browser, client):
    oidc_provider.seed(users=[_person("ada", ["cs-admins", "cs-team"])])  # the broadest role wins
    provider_browser.sign_in("ada", "pw-ada-123")
    ada = User.objects.get(username="ada")
    assert user_role(ada) == Role.ADMIN and ada.is_staff and ada.is_superuser


def test_a_person_whose_groups_map_to_no_role_is_refused_with_a_clear_message(oidc_provider, provider_browser, client):
    oidc_provider.seed(users=[_person("sam", ["sales"])])

    response = provider_browser.sign_in("sam", "pw-sam-123")

    assert response.status_code == 403
    assert "give you no role in churnapp" in response.content.decode()
    assert not User.objects.filter(email="sam@example.com").exists()
    assert client.get("/")["Location"].startswith(LOGIN)


def test_the_default_role_admits_a_person_whose_groups_map_to_nothing(
    oidc_provider, provider_browser, client, sso_settings
):
    sso_settings.OIDC_DEFAULT_ROLE = "Viewer"
    oidc_provider.seed(users=[_person("val", ["sales"])])
    provider_browser.sign_in("val", "pw-val-123")
    assert user_role(_signed_in_user(client)) == Role.VIEWER


def test_a_deactivated_local_user_is_refused(oidc_provider, provider_browser, client):
    UserFactory(username="dora", email="dora@example.com", role="CSM", is_active=False)
    oidc_provider.seed(users=[_person("dora", ["cs-team"])])

    response = provider_browser.sign_in("dora", "pw-dora-123")

    assert response.status_code == 403 and "deactivated" in response.content.decode()
    assert client.get("/")["Location"].startswith(LOGIN)


def test_a_person_deactivated_at_the_provider_cannot_sign_in(oidc_provider, provider_browser, client):
    oidc_provider.seed(users=[_person("olga", ["cs-team"], active=False)])

    answer = provider_browser.sign_in("olga", "pw-olga-123")

    assert answer.status_code == 200 and "Wrong username or password" in answer.text  # the provider's form again
    assert not User.objects.filter(username="olga").exists()


def test_a_person_deactivated_at_the_provider_loses_access_at_the_next_check(oidc_provider, provider_browser, client):
    oidc_provider.seed(users=[_person("pete", ["cs-team"])])
    provider_browser.sign_in("pete", "pw-pete-123")
    assert _signed_in_user(client).username == "pete"

    oidc_provider.seed(users=[_person("pete", ["cs-team"], active=False)])
    session = SessionStore(client.session.session_key)
    session["oidc_id_token_expiration"] = 0  # the check at the provider is due
    session.save()
    refresh = client.get("/accounts/")
    assert refresh.status_code == 302 and "prompt=none" in refresh["Location"]
    answer = provider_browser.session.get(refresh["Location"], allow_redirects=False)
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["error"] == ["login_required"]

    response = provider_browser.follow_callback(answer.headers["Location"])

    assert response.status_code == 403 and "Sign in again" in response.content.decode()
    assert client.get("/accounts/")["Location"].startswith(LOGIN)


def test_a_session_still_valid_at_the_provider_is_renewed_without_a_form(oidc_provider, provider_browser, client):
    oidc_provider.seed(users=[_person("rita", ["cs-team"])])
    provider_browser.sign_in("rita", "pw-rita-123")
    session = SessionStore(client.session.session_key)
    session["oidc_id_token_expiration"] = 0
    session.save()

    refresh = client.get("/accounts/")
    answer = provider_browser.session.get(refresh["Location"], allow_redirects=False)
    assert answer.status_code == 302, (refresh["Location"], answer.text[:3000])
    response = provider_browser.follow_callback(answer.headers["Location"])

    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert client.get("/accounts/").status_code == 200


def test_the_page_after_sign_in_stays_on_this_host(oidc_provider, provider_browser, client):
    oidc_provider.seed(users=[_person("nick", ["cs-team"])])
    response = provider_browser.sign_in("nick", "pw-nick-123", next_url="https://evil.example/steal")
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_callback_with_an_unknown_state_is_refused(oidc_provider, provider_browser, client):
    oidc_provider.seed(users=[_person("tom", ["cs-team"])])
    start = client.get("/oidc/authenticate/")
    answer = provider_browser.sign_in_at_provider(start["Location"], "tom", "pw-tom-123")
    forged = answer.headers["Location"].replace("state=", "state=forged")

    response = provider_browser.follow_callback(forged)

    assert response.status_code == 400 and "could not be verified" in response.content.decode()
    assert client.get("/")["Location"].startswith(LOGIN)


def test_an_unreachable_provider_is_an_error_page_not_a_crash(client, sso_settings, unused_port):
    sso_settings.OIDC_ISSUER = f"http://127.0.0.1:{unused_port}/o"
    assert client.get("/login/").status_code == 200
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()


@pytest.fixture
def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_id_tokens_are_checked_for_signature_issuer_audience_expiry_and_nonce(oidc_provider, sso_settings):
    provider_key = (oidc_provider.directory / "rsa.pem").read_bytes()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = requests.get(f"{oidc_provider.issuer}/.well-known/jwks.json", timeout=10).json()["keys"][0]["kid"]
    now = int(time.time())
    claims = {"iss": oidc_provider.issuer, "aud": CLIENT_ID, "sub": "7", "iat": now, "exp": now + 60, "nonce": "n1"}

    def signed(changes=None, key=provider_key, algorithm="RS256"):
        return jwt.encode({**claims, **(changes or {})}, key, algorithm=algorithm, headers={"kid": kid})

    backend = SSOBackend()
    assert backend.verify_token(signed(), nonce="n1")["sub"] == "7"
    refused = {
        "another key": signed(key=other_key),
        "HS256 with the client secret": signed(key=CLIENT_SECRET, algorithm="HS256"),
        "another audience": signed({"aud": "another-client"}),
        "another issuer": signed({"iss": "http://127.0.0.1:1/o"}),
        "expired": signed({"exp": now - 120}),
    }
    for reason, token in refused.items():
        with pytest.raises(SuspiciousOperation):
            backend.verify_token(token, nonce="n1")
            pytest.fail(f"accepted a token with {reason}")
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(signed(), nonce="another-nonce")
