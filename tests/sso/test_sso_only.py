"""The login page with and without single sign-on, and SSO-only mode: no password for anyone outside the
break-glass users, on every form that takes one (login, /auth/login/, the Django admin, password reset); API keys
keep working."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from churnapp.apikeys import api_key_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture
def sso_on(settings):
    settings.OIDC_ISSUER = "https://id.example.com/realms/cs"  # never fetched by these tests
    settings.OIDC_RP_CLIENT_ID = "churnapp"
    settings.OIDC_RP_CLIENT_SECRET = "s3cret"
    settings.SSO_ONLY = False
    settings.SSO_BREAK_GLASS_USERS = ["rescue"]
    return settings


@pytest.fixture
def sso_only(sso_on):
    sso_on.SSO_ONLY = True
    return sso_on


@pytest.fixture
def people(db):
    return {
        "rescue": UserFactory(
            username="rescue", email="rescue@example.com", role="Admin", is_staff=True, is_superuser=True
        ),  # fmt: skip
        "casey": UserFactory(username="casey", email="casey@example.com", role="CSM", is_staff=True),
    }


def _login(client, username, path="/login/"):
    return client.post(path, {"username": username, "password": PASSWORD})


def test_without_configuration_there_is_no_button_and_the_sso_urls_answer_404(client, settings, people):
    settings.OIDC_ISSUER = settings.OIDC_RP_CLIENT_ID = settings.OIDC_OP_AUTHORIZATION_ENDPOINT = ""
    page = client.get("/login/").content.decode()
    assert "Sign in with SSO" not in page and "/oidc/" not in page
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "c", "state": "s"}).status_code == 404
    assert _login(client, "casey").status_code == 302  # passwords as before


def test_the_login_page_offers_sso_beside_the_password_form(client, sso_on):
    page = client.get("/login/?next=/accounts/").content.decode()
    assert 'href="/oidc/authenticate/?next=/accounts/"' in page
    assert "Sign in with SSO" in page
    assert 'name="password"' in page and "<details" not in page


def test_sso_only_hides_the_password_form_behind_the_emergency_sign_in(client, sso_only):
    page = client.get("/login/").content.decode()
    assert "Sign in with SSO" in page and "Password sign-in is turned off" in page
    details = re.search(r"<details>(.*)</details>", page, re.S)
    assert details and 'name="password"' in details.group(1)
    assert 'name="password"' not in page.replace(details.group(0), "")


@pytest.mark.parametrize("path", ["/login/", "/auth/login/"])
def test_sso_only_refuses_a_right_password_outside_the_break_glass_users(client, sso_only, people, path):
    response = _login(client, "casey", path)
    assert response.status_code == 200
    assert "Password sign-in is turned off here" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sso_only_lets_a_break_glass_user_in_with_a_password(client, sso_only, people):
    response = _login(client, "rescue")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(people["rescue"].pk)


def test_sso_only_refuses_the_django_admin_login_too(client, sso_only, people):
    response = client.post("/admin/login/", {"username": "casey", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert client.login(username="casey", password=PASSWORD) is False  # any authenticate() with a password
    assert client.login(username="rescue", password=PASSWORD) is True


def test_sso_only_leaves_api_keys_alone(client, sso_only):
    _, secret = api_key_create(name="BI", scopes=["read"])
    assert client.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_sso_only_sends_reset_emails_to_break_glass_users_only(client, sso_only, people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    page = client.get("/auth/password_reset/").content.decode()
    assert "only emergency administrators can reset a password" in page

    client.post("/auth/password_reset/", {"email": "casey@example.com"})
    assert mail.outbox == []
    client.post("/auth/password_reset/", {"email": "rescue@example.com"})
    assert [m.to for m in mail.outbox] == [["rescue@example.com"]]


def _reset_link(user) -> str:
    return f"/auth/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"


def test_sso_only_makes_a_reset_link_invalid_outside_the_break_glass_users(client, sso_only, people):
    casey = people["casey"]
    page = client.get(_reset_link(casey), follow=True)
    assert "This reset link is invalid" in page.content.decode()
    form = client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else _reset_link(casey),
        {"new_password1": "An0ther-long-passphrase", "new_password2": "An0ther-long-passphrase"},
    )
    assert form.status_code == 200
    casey.refresh_from_db()
    assert casey.check_password(PASSWORD)

    rescue_page = client.get(_reset_link(people["rescue"]), follow=True).content.decode()
    assert 'name="new_password1"' in rescue_page


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("it", ["Accedi con SSO", "L'accesso con password è disattivato"]),
        ("bg", ["Вход чрез SSO", "Входът с парола е изключен"]),
    ],
)
def test_the_sso_login_page_is_translated(client, sso_only, language, expected):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in expected:
        assert text in page
    assert "Sign in with SSO" not in page and "Emergency administrator sign-in" not in page
