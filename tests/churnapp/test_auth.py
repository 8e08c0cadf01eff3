from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command

from churnapp.roles import Role, can_configure, can_edit_account, user_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_and_logout(client):
    UserFactory(username="ana", role="CSM")
    response = client.post("/login/", {"username": "ana", "password": "correct-horse-battery"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_wrong_password_shows_an_error(client):
    UserFactory(username="ana", role="CSM")
    response = client.post("/login/", {"username": "ana", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_password_reset_by_email(client):
    user = UserFactory(username="ana", email="ana@example.com", role="CSM")
    client.post("/auth/password_reset/", {"email": "ana@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/auth/reset/\S+/", mail.outbox[0].body).group(0)
    form = client.get(link, follow=True)
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-new-Long-pass-42", "new_password2": "a-new-Long-pass-42"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-Long-pass-42")


def test_password_change(client):
    user = UserFactory(username="ana", role="CSM")
    client.force_login(user)
    response = client.post(
        "/auth/password_change/",
        {
            "old_password": "correct-horse-battery",
            "new_password1": "Another-pass-77",
            "new_password2": "Another-pass-77",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Another-pass-77")


def test_create_user_command_gives_the_role():
    call_command("create_user", role="csm", email="ana@example.com", password="a-Long-pass-123")
    user = get_user_model().objects.get(username="ana@example.com")
    assert user_role(user) == Role.CSM and not user.is_staff
    assert user.check_password("a-Long-pass-123")


def test_create_user_command_refuses_weak_password_and_duplicates():
    with pytest.raises(CommandError, match="too common|too short"):
        call_command("create_user", role="viewer", email="v@example.com", password="password")
    call_command("create_user", role="viewer", email="v@example.com", password="a-Long-pass-123")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", role="viewer", email="v@example.com", password="a-Long-pass-123")


def test_bootstrap_creates_one_admin_once(capsys, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    call_command("bootstrap", no_demo=True)
    out = capsys.readouterr().out
    password = re.search(r"password: (\S+)", out).group(1)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    call_command("bootstrap", no_demo=True)
    assert "password" not in capsys.readouterr().out
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


@pytest.mark.parametrize(("role", "configure"), [("Admin", True), ("Manager", True), ("CSM", False), ("Viewer", False)])
def test_role_matrix(role, configure, own_account):
    user = UserFactory(username=f"u-{role}", role=role)
    assert can_configure(user) == configure
    assert can_edit_account(user, own_account) == configure
    assert user.has_perm("accounts.view_account")
