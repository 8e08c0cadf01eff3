"""Limits: import upload size, rows per import, size of one JSON row; the TLS proxy header only when switched on;
sessions last hours, not weeks."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.imports.readers import iter_json_array, iter_jsonl
from accounts.imports.runner import import_run
from accounts.models import Account, ImportJob, ImportStatus

ROOT = Path(__file__).resolve().parents[2]


def _settings_value(name: str, **env: str) -> str:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(repr(getattr(settings, {name!r}, None)))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"BEHIND_TLS_PROXY", "SESSION_COOKIE_AGE", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "churnapp.settings",
            "DEBUG": "false",
            "SECRET_KEY": "k" * 60,
            "ALLOWED_HOSTS": "churn.example.com",
            **env,
        },  # fmt: skip
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_proxy_ssl_header_is_trusted_only_behind_a_tls_proxy():
    assert _settings_value("SECURE_PROXY_SSL_HEADER") == "None"
    assert _settings_value("SECURE_PROXY_SSL_HEADER", BEHIND_TLS_PROXY="true") == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_sessions_last_twelve_hours_by_default_and_are_configurable():
    assert _settings_value("SESSION_COOKIE_AGE") == str(12 * 60 * 60)
    assert _settings_value("SESSION_COOKIE_AGE", SESSION_COOKIE_AGE="3600") == "3600"


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_refused_with_a_clear_error(client, manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_MAX_UPLOAD_MB = 1
    client.force_login(manager)
    big = SimpleUploadedFile("a.csv", b"account_id,name\n" + b"a-1,Acme\n" * 150_000, content_type="text/csv")
    response = client.post(reverse("import-list"), {"kind": "accounts", "file": big})
    assert response.status_code == 413
    assert "Files up to 1 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_an_upload_within_the_limit_is_accepted(client, manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(manager)
    upload = SimpleUploadedFile("a.csv", b"account_id,name\na-1,Acme\n", content_type="text/csv")
    response = client.post(reverse("import-list"), {"kind": "accounts", "file": upload})
    assert response.status_code == 302
    assert ImportJob.objects.count() == 1


@pytest.mark.django_db
def test_the_upload_handler_stops_reading_past_the_limit_without_a_content_length(rf, manager, settings):
    """A request whose declared length is small (or absent) is still cut off once the file passes the limit."""
    from accounts.imports.views import UploadLimitHandler

    settings.IMPORT_MAX_UPLOAD_MB = 1
    request = rf.post("/imports/")
    request.upload_too_large = False
    handler = UploadLimitHandler(request)
    from django.core.files.uploadhandler import StopUpload

    handler.receive_data_chunk(b"x" * 1024 * 1024, 0)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x", 1024 * 1024)
    assert request.upload_too_large


@pytest.mark.django_db
def test_a_file_over_the_row_cap_is_refused_before_writing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_MAX_ROWS = 3
    text = "account_id,name\n" + "".join(f"a-{i},A{i}\n" for i in range(5))
    job = import_run(
        job=ImportJob.objects.create(kind="accounts", original_name="a.csv"), source=io.BytesIO(text.encode())
    )
    assert job.status == ImportStatus.FAILED
    assert "at most 3" in job.error and "IMPORT_MAX_ROWS" in job.error
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_a_json_array_over_the_row_cap_stops_with_a_clear_error(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_MAX_ROWS = 3
    text = json.dumps([{"account_id": f"a-{i}", "name": f"A{i}"} for i in range(5)])
    job = import_run(
        job=ImportJob.objects.create(kind="accounts", original_name="a.json"), source=io.BytesIO(text.encode())
    )
    assert job.status == ImportStatus.FAILED
    assert "more than 3 rows" in job.error
    assert Account.objects.count() == 3


def test_an_oversized_json_lines_row_is_reported_and_skipped_without_reading_it_whole():
    lines = b'{"a": 1}\n{"b": "' + b"x" * 5000 + b'"}\n{"c": 3}\n'
    rows = list(iter_jsonl(io.BytesIO(lines), max_row_chars=1000))
    assert rows[0] == (1, {"a": 1})
    assert rows[1][0] == 2 and "over" in rows[1][1]["__invalid__"]
    assert rows[2] == (3, {"c": 3})


def test_an_oversized_json_array_element_stops_the_file():
    from accounts.imports.readers import UnreadableFile

    data = json.dumps([{"a": 1}, {"b": "x" * 300_000}]).encode()
    with pytest.raises(UnreadableFile, match="Row 2 is over"):
        list(iter_json_array(io.BytesIO(data), max_row_chars=100_000))


@pytest.mark.django_db
def test_import_of_an_oversized_json_lines_row_reports_that_row(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_MAX_ROW_KB = 1
    text = '{"account_id": "a-1"}\n{"account_id": "a-2", "name": "' + "x" * 4000 + '"}\n'
    job = import_run(
        job=ImportJob.objects.create(kind="accounts", original_name="a.jsonl"), source=io.BytesIO(text.encode())
    )
    assert job.status == ImportStatus.DONE
    assert job.failed_count == 1 and "over 1 KB" in job.row_errors.get().message
    assert list(Account.objects.values_list("external_id", flat=True)) == ["a-1"]
