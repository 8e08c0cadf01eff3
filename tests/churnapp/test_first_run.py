"""The newcomer's path: bootstrap always finishes, commands enqueue without a running worker, and the local
server answers like the product (error pages, favicon, integrations overview, POST/redirect/GET)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import include, path, reverse

from accounts.models import Account, InboundWebhookEvent, InboundWebhookStatus
from churnapp.management.commands import bootstrap
from churnapp.models import ApiKey, SetupStep
from tests.factories import AccountFactory

ROOT = Path(__file__).resolve().parents[2]


# --- The embedded broker ---------------------------------------------------------------------------------------


def test_a_command_can_enqueue_before_any_worker_created_the_broker_folders(tmp_path):
    """The first start died here: an on-commit enqueue listed var/celery/out, which did not exist yet."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update({"DEBUG": "true", "CHURNAPP_VAR_DIR": str(tmp_path / "var")})
    code = "from winback.tasks import refresh_page_facts; refresh_page_facts.apply_async(); print('queued')"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "queued" in result.stdout
    assert len(list((tmp_path / "var" / "celery" / "out").iterdir())) == 1


# --- Bootstrap -------------------------------------------------------------------------------------------------


@pytest.fixture
def recorded_commands(monkeypatch):
    """Bootstrap's derived steps, recorded instead of run; names in `failing` raise like a crashing step."""
    calls: list[str] = []
    failing: set[str] = set()

    real_call_command = bootstrap.call_command

    def fake_call_command(name, *args, **kwargs):
        if name == "flush":
            return real_call_command(name, *args, **kwargs)
        calls.append(name)
        if name == "simulate":
            AccountFactory()
        if name in failing:
            raise RuntimeError(f"{name} blew up")
        return None

    monkeypatch.setattr(bootstrap, "call_command", fake_call_command)
    return calls, failing


@pytest.mark.django_db
def test_a_failing_step_is_reported_and_the_others_still_run(recorded_commands):
    calls, failing = recorded_commands
    AccountFactory()
    failing.add("winback_backfill")
    out = io.StringIO()
    call_command("bootstrap", "--no-demo", stdout=out)
    assert calls == [step.command for step in bootstrap.DERIVED_STEPS]
    assert "1 step(s) failed: winback_backfill" in out.getvalue()
    failed = SetupStep.objects.get(name="winback_backfill")
    assert failed.completed_at is None and "blew up" in failed.last_error
    assert SetupStep.objects.filter(completed_at__isnull=False).count() == len(bootstrap.DERIVED_STEPS) - 1


@pytest.mark.django_db
def test_the_next_start_completes_only_what_is_missing(recorded_commands):
    calls, failing = recorded_commands
    AccountFactory()
    failing.update({"automations_install_builtins", "refresh_kpi_facts"})
    call_command("bootstrap", "--no-demo", stdout=io.StringIO())
    calls.clear()
    failing.clear()
    call_command("bootstrap", "--no-demo", stdout=io.StringIO())
    assert calls == ["automations_install_builtins", "refresh_kpi_facts"]
    calls.clear()
    call_command("bootstrap", "--no-demo", stdout=io.StringIO())
    assert calls == []


@pytest.mark.django_db
def test_a_new_demo_runs_every_step_again(recorded_commands):
    calls, _ = recorded_commands
    SetupStep.objects.create(name="rebuild_rollups", completed_at="2026-01-01T00:00:00Z")
    call_command("bootstrap", "--accounts", "1", "--months", "1", stdout=io.StringIO())
    assert calls[0] == "simulate"
    assert "rebuild_rollups" in calls


@pytest.mark.django_db(transaction=True)  # flush cannot run inside a test's transaction on PostgreSQL
def test_reset_demo_deletes_everything_and_builds_again(recorded_commands, monkeypatch):
    calls, _ = recorded_commands
    AccountFactory(name="Left over")
    get_user_model().objects.create_user("someone")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-admin-password")
    call_command("bootstrap", "--reset-demo", stdout=io.StringIO())
    assert not Account.objects.filter(name="Left over").exists()
    assert not get_user_model().objects.filter(username="someone").exists()
    assert get_user_model().objects.get(username="admin").check_password("a-long-admin-password")
    assert calls[0] == "simulate"


@pytest.mark.django_db
def test_demo_password_lets_every_demo_role_log_in(recorded_commands, monkeypatch):
    User = get_user_model()
    for username in ("csm.ana", "manager.mia"):
        user = User.objects.create_user(username)
        user.set_unusable_password()
        user.save()
    AccountFactory()
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-2026")
    call_command("bootstrap", "--no-demo", stdout=io.StringIO())
    bootstrap.Command()._ensure_demo_viewer()
    call_command("bootstrap", "--no-demo", stdout=io.StringIO())
    for username in ("csm.ana", "manager.mia", bootstrap.DEMO_VIEWER):
        assert User.objects.get(username=username).check_password("demo-password-2026")
    assert User.objects.get(username=bootstrap.DEMO_VIEWER).groups.filter(name="Viewer").exists()


# --- Commands as the README writes them ------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_api_key_needs_no_name():
    out = io.StringIO()
    call_command("create_api_key", "--scope", "read", stdout=out, stderr=io.StringIO())
    key = ApiKey.objects.get()
    assert key.scopes == ["read"] and key.name.startswith("read key of ")
    assert out.getvalue().strip().startswith(f"ck_{key.prefix}_")


# --- Error pages -----------------------------------------------------------------------------------------------


def _explode(request):
    raise RuntimeError("boom")


def _forbidden(request):
    raise PermissionDenied("Only managers reassign accounts in bulk.")


# The error tests route through this module (ROOT_URLCONF), with the project's error handlers.
urlpatterns = [path("explode/", _explode), path("forbidden/", _forbidden), path("", include("churnapp.urls"))]
handler403 = "churnapp.errors.permission_denied"
handler500 = "churnapp.errors.server_error"


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_address_is_the_products_404_in_both_debug_states(client, csm, settings, debug):
    settings.DEBUG = debug
    client.force_login(csm)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'href="/"' in html and "My day" in html
    assert "URLconf" not in html and "technical" not in html.lower()


@pytest.mark.parametrize("debug", [False, True])
def test_forbidden_page_keeps_the_layout_and_the_reason(client, viewer, settings, debug):
    settings.DEBUG = debug
    client.force_login(viewer)
    response = client.get(reverse("api-keys"), HTTP_REFERER="http://testserver/accounts/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html and "Only admins manage integrations." in html
    assert 'href="http://testserver/accounts/"' in html  # the way back
    assert 'class="sidebar"' in html


def test_referer_from_another_site_is_not_offered_as_the_way_back(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("api-keys"), HTTP_REFERER="https://evil.example/")
    assert "evil.example" not in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_server_error_is_the_products_500_in_both_debug_states(csm, settings, debug):
    settings.DEBUG = debug
    settings.ROOT_URLCONF = "tests.churnapp.test_first_run"
    client = Client(raise_request_exception=False)
    client.force_login(csm)
    response = client.get("/explode/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and "boom" not in html and "Traceback" not in html


@pytest.mark.parametrize("debug", [False, True])
def test_permission_denied_in_a_view_shows_its_sentence(csm, settings, debug):
    settings.DEBUG = debug
    settings.ROOT_URLCONF = "tests.churnapp.test_first_run"
    client = Client()
    client.force_login(csm)
    response = client.get("/forbidden/")
    assert response.status_code == 403
    assert "Only managers reassign accounts in bulk." in response.content.decode()


def test_csrf_failure_explains_what_to_do(csm):
    client = Client(enforce_csrf_checks=True)
    client.force_login(csm)
    response = client.post(reverse("logout"))
    assert response.status_code == 403
    assert "Reload the page and send it again" in response.content.decode()


def test_api_404_stays_json(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is nothing at this address. It may have been moved or deleted."}


@override_settings(DEBUG=False)
def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.url.endswith("favicon.svg")
    assert finders.find("favicon.svg")


# --- Integrations ----------------------------------------------------------------------------------------------


def test_integrations_overview_shows_every_connection_with_its_last_event(client, admin_user):
    InboundWebhookEvent.objects.create(
        source="stripe", event_id="evt_1", type="invoice.payment_failed", status=InboundWebhookStatus.PROCESSED
    )
    client.force_login(admin_user)
    response = client.get("/settings/integrations/")
    assert response.status_code == 200
    html = response.content.decode()
    for heading in ("API keys", "Outgoing webhooks", "Billing (Stripe)", "Helpdesk"):
        assert heading in html
    assert "invoice.payment_failed" in html
    assert "http://testserver" + reverse("webhook-stripe") in html


@pytest.mark.django_db  # the user comes from getfixturevalue: without the marker it would run after the flushes
@pytest.mark.parametrize("user_fixture", ["manager", "csm", "viewer"])
def test_integrations_overview_is_for_admins(client, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    assert client.get("/settings/integrations/").status_code == 403


def test_bad_request_is_the_products_400(client):
    response = client.get("/login/", HTTP_HOST="not-an-allowed-host.example")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
