from __future__ import annotations

import base64
import io

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse

from churnapp.apikeys import api_key_create, api_key_revoke
from churnapp.authentication import ApiKeyRateThrottle
from churnapp.models import ApiKey
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()
    yield
    cache.clear()


def _bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_create_api_key_command_prints_the_secret_once_and_stores_only_a_hash():
    out = io.StringIO()
    call_command(
        "create_api_key", "--name", "Segment", "--scope", "ingest", "--scope", "read", stdout=out, stderr=io.StringIO()
    )
    secret = out.getvalue().strip()
    key = ApiKey.objects.get()
    assert secret.startswith(f"ck_{key.prefix}_")
    assert key.scopes == ["ingest", "read"]
    assert secret not in key.key_hash and len(key.key_hash) == 64
    assert not ApiKey.objects.filter(key_hash=secret).exists()


def test_create_api_key_command_rejects_unknown_scopes():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command(
            "create_api_key", "--name", "x", "--scope", "superuser", stdout=io.StringIO(), stderr=io.StringIO()
        )


def test_read_key_reads_accounts_and_records_last_use(client):
    AccountFactory(name="Acme")
    key, secret = api_key_create(name="BI", scopes=["read"])
    response = client.get("/api/v1/accounts/", **_bearer(secret))
    assert response.status_code == 200
    assert response.json()["count"] == 1
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        lambda s: {"HTTP_AUTHORIZATION": f"Token {s}"},
        lambda s: {"HTTP_X_API_KEY": s},
        lambda s: {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{s}:".encode()).decode()},
    ],
    ids=["token", "x-api-key", "basic-username"],
)
def test_key_is_accepted_in_every_documented_header(client, headers):
    _, secret = api_key_create(name="BI", scopes=["read"])
    assert client.get("/api/v1/accounts/", **headers(secret)).status_code == 200


def test_missing_wrong_and_revoked_keys_get_401(client):
    key, secret = api_key_create(name="BI", scopes=["read"])
    assert client.get("/api/v1/accounts/").status_code == 401
    assert client.get("/api/v1/accounts/", **_bearer(secret + "x")).status_code == 401
    assert client.get("/api/v1/accounts/", **_bearer("ck_nothere_abc")).status_code == 401
    api_key_revoke(key=key)
    response = client.get("/api/v1/accounts/", **_bearer(secret))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_ingest_key_cannot_read_accounts(client):
    _, secret = api_key_create(name="Tracker", scopes=["ingest"])
    assert client.get("/api/v1/accounts/", **_bearer(secret)).status_code == 403


def test_write_only_key_cannot_read(client):
    _, secret = api_key_create(name="CRM sync", scopes=["write"])
    assert client.get("/api/v1/accounts/", **_bearer(secret)).status_code == 403


def test_admin_key_reads(client):
    _, secret = api_key_create(name="Ops", scopes=["admin"])
    assert client.get("/api/v1/accounts/", **_bearer(secret)).status_code == 200


def test_throttled_key_gets_429_with_retry_after(client, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    _, secret = api_key_create(name="BI", scopes=["read"])
    _, other = api_key_create(name="Other", scopes=["read"])
    assert client.get("/api/v1/accounts/", **_bearer(secret)).status_code == 200
    assert client.get("/api/v1/accounts/", **_bearer(secret)).status_code == 200
    response = client.get("/api/v1/accounts/", **_bearer(secret))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    # The limit is per key.
    assert client.get("/api/v1/accounts/", **_bearer(other)).status_code == 200


def test_sessions_are_not_throttled_or_scoped(client, viewer, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1/min"})
    client.force_login(viewer)
    for _ in range(3):
        assert client.get("/api/v1/accounts/").status_code == 200


def test_admin_creates_a_key_in_the_ui_and_sees_the_secret_once(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("api-keys"), {"name": "Segment", "scopes": ["ingest"]})
    # POST/redirect/GET: reloading the page that shows the secret cannot create a second key.
    assert response.status_code == 302
    assert response.url == reverse("api-keys")
    shown = client.get(reverse("api-keys"))
    key = ApiKey.objects.get()
    secret = shown.context["secret"]
    assert secret.startswith(f"ck_{key.prefix}_")
    assert secret in shown.content.decode()
    assert key.created_by == admin_user
    again = client.get(reverse("api-keys")).content.decode()
    assert secret not in again
    assert f"ck_{key.prefix}_" in again
    assert ApiKey.objects.count() == 1


def test_invalid_key_form_shows_errors_without_creating(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("api-keys"), {"name": "", "scopes": []})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_admin_revokes_a_key_in_the_ui(client, admin_user):
    key, _ = api_key_create(name="Old", scopes=["read"])
    client.force_login(admin_user)
    assert client.post(reverse("api-key-revoke", args=[key.pk])).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


@pytest.mark.parametrize("user_fixture", ["manager", "csm", "viewer"])
def test_only_admins_manage_api_keys(client, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    assert client.get(reverse("api-keys")).status_code == 403
    assert client.post(reverse("api-keys"), {"name": "x", "scopes": ["admin"]}).status_code == 403
    assert not ApiKey.objects.exists()
