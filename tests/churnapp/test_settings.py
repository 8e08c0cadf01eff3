"""Start-up from the environment: production settings pass `check --deploy`; a missing variable is named."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 64 + "-production-secret-Kq8#",
    "ALLOWED_HOSTS": "churn.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://churn.example.com",
    "DATABASE_URL": "sqlite:////tmp/churnapp-deploy-check.sqlite3",
}


# An empty var folder, so a local `var/local.env` written by `make run` cannot supply what a test leaves out.
EMPTY_VAR = tempfile.mkdtemp(prefix="churnapp-var-")


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    unset = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    env = {"CHURNAPP_VAR_DIR": EMPTY_VAR, **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_is_named_at_start_up():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_missing_allowed_hosts_is_named_at_start_up():
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "Set the ALLOWED_HOSTS environment variable" in result.stderr


def test_debug_runs_with_no_configuration():
    result = _manage("check", env={"DEBUG": "true"})
    assert result.returncode == 0, result.stderr


def test_healthz_is_public_and_checks_the_database(client, db):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == {"status": "ok"}


def test_collectstatic_with_production_storage_builds_a_manifest(tmp_path):
    """Production serves hashed files from a manifest: every vendored file's references must resolve."""
    env = {**PRODUCTION, "STATIC_ROOT": str(tmp_path)}
    result = _manage("collectstatic", "--noinput", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "staticfiles.json").exists()


def test_manage_py_reads_the_local_env_that_make_run_writes(tmp_path):
    """README commands (changepassword, create_user…) work without exporting anything by hand."""
    (tmp_path / "local.env").write_text("DEBUG=true\nSECRET_KEY=generated-for-this-checkout\n")
    result = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)",
        env={"CHURNAPP_VAR_DIR": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True generated-for-this-checkout"


def test_the_environment_wins_over_the_local_env(tmp_path):
    (tmp_path / "local.env").write_text("DEBUG=true\nSECRET_KEY=generated-for-this-checkout\n")
    env = {**PRODUCTION, "CHURNAPP_VAR_DIR": str(tmp_path)}
    result = _manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env=env)
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_persistent_database_connections_are_health_checked_before_reuse():
    """After a PostgreSQL restart the first request on a pooled connection reconnects instead of failing."""
    script = "from django.conf import settings as s; d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"  # noqa: E501
    env = {**PRODUCTION, "DATABASE_URL": "postgres://churnapp@db.example:5432/churnapp"}
    result = _manage("shell", "--no-imports", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["60", "True"]
