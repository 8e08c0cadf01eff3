"""Login lockout (django-axes) on /login/ and /admin/login/, and the password-reset e-mail throttle."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core import mail
from django.core.cache import cache

from churnapp.login_protection import client_ip
from tests.factories import UserFactory
from tests.schemathesis_support import api_key_headers

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed login attempts"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ana(db):
    return UserFactory(username="ana", email="ana@example.com", role="CSM")


def _fail(client, path, username, times, ip="10.0.0.1"):
    responses = [client.post(path, {"username": username, "password": "wrong"}, REMOTE_ADDR=ip) for _ in range(times)]
    return responses[-1]


def test_four_failures_do_not_lock_and_the_right_password_still_works(client, ana):
    _fail(client, "/login/", "ana", 4)
    response = client.post("/login/", {"username": "ana", "password": "correct-horse-battery"}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302


def test_five_failures_lock_the_username_from_that_address_even_with_the_right_password(client, ana):
    fifth = _fail(client, "/login/", "ana", 5)
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()
    response = client.post("/login/", {"username": "ana", "password": "correct-horse-battery"}, REMOTE_ADDR="10.0.0.1")
    body = response.content.decode()
    assert response.status_code == 429
    assert LOCKED in body and "Try again in 15 minutes" in body
    assert "Forgot your password?" in body and 'name="username"' in body  # the app's own login page
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_username_and_address(client, ana):
    UserFactory(username="bob", role="CSM")
    _fail(client, "/login/", "ana", 5)
    # the same user from another address, another user from the same address: not locked
    ok = client.post("/login/", {"username": "ana", "password": "correct-horse-battery"}, REMOTE_ADDR="10.0.0.2")
    assert ok.status_code == 302
    client.logout()
    ok = client.post("/login/", {"username": "bob", "password": "correct-horse-battery"}, REMOTE_ADDR="10.0.0.1")
    assert ok.status_code == 302


def test_admin_login_is_protected_too(client):
    UserFactory(username="root", is_staff=True, is_superuser=True, role="Admin")
    assert _fail(client, "/admin/login/", "root", 5).status_code == 429
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "correct-horse-battery"}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 429 and LOCKED in response.content.decode()


def test_lockouts_are_recorded_and_listed_in_the_admin(client, admin_user, ana):
    _fail(client, "/login/", "ana", 5)
    attempt = AccessAttempt.objects.get(username="ana")
    assert attempt.failures_since_start == 5 and attempt.ip_address == "10.0.0.1"
    assert AccessFailureLog.objects.filter(username="ana", locked_out=True).exists()
    client.force_login(admin_user)
    assert "ana" in client.get("/admin/axes/accessattempt/").content.decode()
    assert client.get("/admin/axes/accessfailurelog/").status_code == 200


def test_a_successful_login_resets_the_failure_count(client, ana):
    _fail(client, "/login/", "ana", 4)
    client.post("/login/", {"username": "ana", "password": "correct-horse-battery"}, REMOTE_ADDR="10.0.0.1")
    client.logout()
    assert _fail(client, "/login/", "ana", 4).status_code == 200  # counting from zero again


def test_resetting_the_password_lifts_the_lockout(client, ana):
    _fail(client, "/login/", "ana", 5)
    client.post("/auth/password_reset/", {"email": "ana@example.com"})
    link = re.search(r"http://\S+/auth/reset/\S+/", mail.outbox[0].body).group(0)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-new-Long-pass-42", "new_password2": "a-new-Long-pass-42"}
    )
    response = client.post("/login/", {"username": "ana", "password": "a-new-Long-pass-42"}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302


def test_api_keys_still_authenticate_while_logins_are_locked(client, ana):
    _fail(client, "/login/", "ana", 5)
    assert client.get("/api/v1/accounts/", headers=api_key_headers("read"), REMOTE_ADDR="10.0.0.1").status_code == 200


def test_test_client_login_without_a_request_still_works(client, ana):
    assert client.login(username="ana", password="correct-horse-battery")


class TestPasswordResetThrottle:
    def test_three_requests_per_address_then_a_clear_message(self, client, ana):
        for _ in range(3):
            assert client.post("/auth/password_reset/", {"email": "ana@example.com"}).status_code == 302
        response = client.post("/auth/password_reset/", {"email": "ana@example.com"})
        assert response.status_code == 429
        assert "Too many password reset requests" in response.content.decode()
        assert len(mail.outbox) == 3

    def test_the_answer_is_the_same_for_an_unknown_address(self, client, ana):
        answers = {}
        for email in ("ana@example.com", "nobody@example.com"):
            cache.clear()
            codes = [client.post("/auth/password_reset/", {"email": email}).status_code for _ in range(4)]
            answers[email] = codes
        assert answers["ana@example.com"] == answers["nobody@example.com"] == [302, 302, 302, 429]

    def test_address_case_does_not_escape_the_limit(self, client, ana):
        for email in ("ana@example.com", "ANA@example.com", "Ana@Example.com"):
            client.post("/auth/password_reset/", {"email": email})
        assert client.post("/auth/password_reset/", {"email": "aNa@example.com"}).status_code == 429

    def test_ten_requests_per_client_address_across_addresses(self, client, ana):
        for n in range(10):
            response = client.post("/auth/password_reset/", {"email": f"p{n}@example.com"}, REMOTE_ADDR="10.0.0.9")
            assert response.status_code == 302
        response = client.post("/auth/password_reset/", {"email": "ana@example.com"}, REMOTE_ADDR="10.0.0.9")
        assert response.status_code == 429
        assert not mail.outbox
        # another network is not affected
        assert client.post("/auth/password_reset/", {"email": "ana@example.com"}).status_code == 302
        assert len(mail.outbox) == 1


def test_behind_a_proxy_lockout_is_per_client_not_per_proxy(client, ana, settings):
    """Behind one proxy every request comes from the proxy's address: the client's is the entry it appended."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.9.9.9"
    for _ in range(5):
        client.post("/login/", {"username": "ana", "password": "wrong"}, REMOTE_ADDR=proxy,
                    HTTP_X_FORWARDED_FOR="203.0.113.7")  # fmt: skip
    locked = client.post("/login/", {"username": "ana", "password": "correct-horse-battery"}, REMOTE_ADDR=proxy,
                         HTTP_X_FORWARDED_FOR="203.0.113.7")  # fmt: skip
    assert locked.status_code == 429
    ok = client.post("/login/", {"username": "ana", "password": "correct-horse-battery"}, REMOTE_ADDR=proxy,
                     HTTP_X_FORWARDED_FOR="198.51.100.4")  # fmt: skip
    assert ok.status_code == 302  # ana from her own address is not locked out by someone else's failures


def test_a_client_cannot_pick_a_fresh_address_by_forging_the_header(client, ana, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):  # each attempt forges another leftmost entry; the proxy appends the real address
        client.post("/login/", {"username": "ana", "password": "wrong"}, REMOTE_ADDR="10.9.9.9",
                    HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7")  # fmt: skip
    locked = client.post("/login/", {"username": "ana", "password": "correct-horse-battery"}, REMOTE_ADDR="10.9.9.9",
                         HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7")  # fmt: skip
    assert locked.status_code == 429


def test_without_trusted_proxies_the_forwarded_header_is_ignored(client, ana, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(5):
        client.post("/login/", {"username": "ana", "password": "wrong"}, REMOTE_ADDR="10.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")  # fmt: skip
    locked = client.post("/login/", {"username": "ana", "password": "correct-horse-battery"}, REMOTE_ADDR="10.0.0.1",
                         HTTP_X_FORWARDED_FOR="192.0.2.200")  # fmt: skip
    assert locked.status_code == 429


def test_a_malformed_forwarded_entry_falls_back_to_the_connection_address(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")) == "10.0.0.1"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="2001:db8::1")) == "2001:db8::1"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7, 10.0.0.2")) == (
        "203.0.113.7"
    )
