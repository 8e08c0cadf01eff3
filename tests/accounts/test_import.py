from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.imports.readers import iter_json_array
from accounts.imports.runner import import_run
from accounts.models import (
    Account,
    Contact,
    ExchangeRate,
    ImportJob,
    ImportStatus,
    Subscription,
    SupportTicket,
    SurveyResponse,
    UsageEvent,
)
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def run(kind: str, text: str, name: str = "data.csv") -> ImportJob:
    job = ImportJob.objects.create(kind=kind, original_name=name)
    return import_run(job=job, source=io.BytesIO(text.encode()))


def errors_of(job: ImportJob) -> dict[int, str]:
    return dict(job.row_errors.values_list("row_number", "message"))


ACCOUNTS_CSV = """account_id,name,owner_email,segment,plan,created_at,region,employees
a-1,Acme,,enterprise,pro,2023-01-05T00:00:00Z,eu,120
a-2,Globex,,smb,starter,,us,
a-3,,,galactic,pro,,,
"""


def test_accounts_import_with_custom_attributes_and_a_bad_row_is_idempotent():
    job = run("accounts", ACCOUNTS_CSV)
    assert job.status == ImportStatus.DONE
    assert (job.total_rows, job.processed_rows, job.created_count, job.failed_count) == (3, 3, 2, 1)
    assert "segment" in errors_of(job)[3]
    acme = Account.objects.get(external_id="a-1")
    assert (acme.name, acme.segment, acme.plan) == ("Acme", "enterprise", "pro")
    assert acme.custom_attributes == {"region": "eu", "employees": "120"}
    again = run("accounts", ACCOUNTS_CSV)
    assert (again.created_count, again.updated_count, again.skipped_count, again.failed_count) == (0, 0, 2, 1)
    assert Account.objects.count() == 2


def test_subscriptions_import_reports_unknown_accounts_and_bad_values():
    AccountFactory(external_id="a-1")
    text = """account_id,product,start_date,end_date,mrr,quantity,units,billing_period
a-1,growth,2024-01-01,,100.00,5,seats,monthly
a-1,sms,2024-01-01,2025-01-01,20,1,packs,annual
ghost,growth,2024-01-01,,100,1,seats,1
a-1,growth,2024-03-01,2024-02-01,10,1,seats,1
a-1,growth,2024-05-01,,-5,1,seats,fortnightly
"""
    job = run("subscriptions", text)
    assert (job.created_count, job.failed_count) == (2, 3)
    errors = errors_of(job)
    assert "Unknown account" in errors[3]
    assert "end_date" in errors[4]
    assert "mrr" in errors[5] and "billing_period" in errors[5]
    assert Subscription.objects.get(product="sms").billing_period == 12
    assert run("subscriptions", text).created_count == 0
    assert Subscription.objects.count() == 2


def test_subscriptions_in_other_currencies_are_converted_at_the_rate_of_their_start_or_refused():
    AccountFactory(external_id="a-1")
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2024, 1, 1), rate=Decimal("1.10"))
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2024, 6, 1), rate=Decimal("1.05"))
    text = """account_id,product,start_date,mrr,currency
a-1,growth,2024-01-01,100.00,usd
a-1,sms,2024-03-01,20,EUR
a-1,seats,2024-07-01,30,eur
a-1,api,2024-01-01,10,GBP
a-1,xyz,2024-01-01,10,XQQ
"""
    job = run("subscriptions", text)
    assert (job.created_count, job.failed_count) == (3, 2)
    assert "No exchange rate for GBP on or before 2024-01-01" in errors_of(job)[4]
    assert "not an ISO 4217 currency code" in errors_of(job)[5]
    subs = {s.product: (s.mrr, s.currency, s.original_mrr) for s in Subscription.objects.all()}
    assert subs == {
        "growth": (Decimal("100.00"), "", None),
        "sms": (Decimal("22.00"), "EUR", Decimal("20.00")),
        "seats": (Decimal("31.50"), "EUR", Decimal("30.00")),
    }


def test_events_import_streams_chunks_dedupes_and_reports_rows(monkeypatch):
    monkeypatch.setattr("accounts.imports.runner.CHUNK_ROWS", {"events": 3})
    account = AccountFactory(external_id="a-1")
    text = """account_id,event_time,event_type,user_id,message_id,properties
a-1,2024-05-01T10:00:00Z,login,u1,,
a-1,2024-05-01T11:00:00Z,export,u1,,"{""rows"": 5}"
a-1,2024-05-01T11:00:00Z,export,u1,,"{""rows"": 5}"
ghost,2024-05-01T10:00:00Z,login,u1,,
a-1,yesterday,login,u1,,
a-1,2024-05-02T10:00:00+02:00,login,u2,m-7,
a-1,2024-05-02T10:00:00Z,report,u2,,[1]
"""
    job = run("events", text)
    assert (job.total_rows, job.processed_rows) == (7, 7)
    assert (job.created_count, job.skipped_count, job.failed_count) == (3, 1, 3)
    errors = errors_of(job)
    assert set(errors) == {4, 5, 7}
    assert "Unknown account" in errors[4] and "event_time" in errors[5] and "properties" in errors[7]
    assert UsageEvent.objects.get(message_id="m-7").occurred_at.isoformat() == "2024-05-02T08:00:00+00:00"
    again = run("events", text)
    assert (again.created_count, again.skipped_count) == (0, 4)
    assert UsageEvent.objects.filter(account=account).count() == 3


def test_events_import_from_a_json_array_and_json_lines():
    AccountFactory(external_id="a-1")
    rows = [{"account_id": "a-1", "event_time": f"2024-05-01T10:{i:02d}:00Z", "event_type": "login",
             "properties": {"i": i}} for i in range(5)]  # fmt: skip
    job = run("events", json.dumps(rows), name="events.json")
    assert (job.created_count, job.failed_count) == (5, 0)
    lines = "\n".join(json.dumps({**r, "event_type": "export"}) for r in rows) + "\n{oops\n"
    job = run("events", lines, name="events.jsonl")
    assert (job.created_count, job.failed_count) == (5, 1)


def test_events_import_refuses_nul_characters_wherever_they_hide():
    AccountFactory(external_id="a-1")
    rows = [
        ["account_id", "event_time", "event_type", "user_id", "message_id", "properties"],
        ["a-1", "2024-01-01T00:00:00Z", "login", "u1", "m-1", '{"note": "fine"}'],
        ["a-1", "2024-01-01T00:00:01Z", "login", "u1", "m-2", '{"note": "a\\u0000b"}'],  # the JSON escape
        ["a-1", "2024-01-01T00:00:02Z", "log\x00in", "u1", "m-3", "{}"],  # the character itself
        ["a-1", "2024-01-01T00:00:03Z", "login", "u1", "m-4", '{"nested": {"k\\u0000": 1}}'],  # in a key
        ["a-1", "2024-01-01T00:00:04Z", "login", "u1", "m-5", '{"path": "C:\\\\u0000"}'],  # an escaped backslash
    ]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    job = run("events", out.getvalue())
    errors = errors_of(job)
    assert set(errors) == {2, 3, 4} and all("NUL" in message for message in errors.values())  # data rows, from 1
    assert sorted(UsageEvent.objects.values_list("message_id", flat=True)) == ["m-1", "m-5"]
    assert UsageEvent.objects.get(message_id="m-5").properties == {"path": "C:\\u0000"}


def test_json_array_reader_handles_values_split_across_chunks(monkeypatch):
    monkeypatch.setattr("accounts.imports.readers.CHUNK_CHARS", 7)
    rows = [{"account_id": f"a-{i}", "name": "x" * i, "n": 12345} for i in range(20)]
    parsed = [row for _, row in iter_json_array(io.BytesIO(json.dumps(rows).encode()))]
    assert parsed == rows


def test_unreadable_files_fail_the_job_with_a_reason():
    job = ImportJob.objects.create(kind="accounts", original_name="x.csv")
    job = import_run(job=job, source=io.BytesIO(b"account_id,name\na-1,\xff\xfe\n"))
    assert job.status == ImportStatus.FAILED
    assert "UTF-8" in job.error
    assert run("accounts", "[{", name="x.json").status == ImportStatus.FAILED


def test_tickets_contacts_and_surveys_import():
    account = AccountFactory(external_id="a-1")
    ContactFactory(account=account, email="ana@acme.example")
    tickets = """ticket_id,account_id,subject,status,priority,opened_at,resolved_at
T-1,a-1,Export broken,open,high,2024-05-01T10:00:00Z,
T-2,a-1,Billing,resolved,normal,2024-05-01T10:00:00Z,2024-05-02T10:00:00Z
T-3,a-1,Bad,weird,normal,2024-05-01T10:00:00Z,
"""
    job = run("tickets", tickets)
    assert (job.created_count, job.failed_count) == (2, 1)
    assert SupportTicket.objects.get(external_id="T-1").priority == "high"
    contacts = "account_id,email,name,user_id\na-1,bob@acme.example,Bob,u9\na-1,not-an-email,X,\n"
    job = run("contacts", contacts)
    assert (job.created_count, job.failed_count) == (1, 1)
    assert Contact.objects.get(email="bob@acme.example").user_id == "u9"
    surveys = """account_id,contact_email,kind,score,comment,responded_at
a-1,ana@acme.example,nps,9,Great,2024-05-01T10:00:00Z
a-1,,csat,4,,2024-05-01T10:00:00Z
a-1,,csat,9,,2024-05-01T10:00:00Z
"""
    job = run("surveys", surveys)
    assert (job.created_count, job.failed_count) == (2, 1)
    assert SurveyResponse.objects.get(kind="nps").contact.email == "ana@acme.example"
    assert run("surveys", surveys).created_count == 0


def test_upload_page_runs_the_import_and_serves_progress_and_error_report(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    upload = SimpleUploadedFile("accounts.csv", ACCOUNTS_CSV.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import-list"), {"kind": "accounts", "file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import-detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.created_by == manager
    page = client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert "Download the error report" in page and 'hx-trigger="every 1s"' not in page
    partial = client.get(reverse("import-detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="import-progress"' in partial and "<html" not in partial
    report = client.get(reverse("import-errors-csv", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[0] == ["row", "error", "data"] and rows[1][0] == "3" and "segment" in rows[1][1]


def test_running_import_page_polls_for_progress(client, manager):
    job = ImportJob.objects.create(kind="events", original_name="big.csv", status="running", total_rows=10)
    client.force_login(manager)
    page = client.get(reverse("import-detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page


@pytest.mark.parametrize("user_fixture", ["csm", "viewer"])
def test_only_managers_and_admins_import(client, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    assert client.get(reverse("import-list")).status_code == 403


def test_import_data_command_prints_progress_and_summary(tmp_path, capsys):
    AccountFactory(external_id="a-1")
    path = tmp_path / "events.csv"
    rows = "".join(f"a-1,2024-05-01T10:{i % 60:02d}:{i // 60:02d}Z,login\n" for i in range(50))
    path.write_text("account_id,event_time,event_type\n" + rows + "ghost,2024-05-01T10:00:00Z,x\n")
    report = tmp_path / "errors.csv"
    out = io.StringIO()
    # A failed row makes the exit status 1, so a script can tell; the rows that could be stored are stored.
    with pytest.raises(SystemExit) as exited:
        call_command("import_data", "--kind", "events", str(path), "--errors", str(report), stdout=out)
    assert exited.value.code == 1
    last_line = out.getvalue().strip().splitlines()[-1]
    assert "51 rows" in last_line and "50 created" in last_line and "1 failed" in last_line
    assert "ghost" in report.read_text()
    assert "rows/s" in capsys.readouterr().err
    assert Decimal(UsageEvent.objects.count()) == 50


def test_import_data_writes_the_error_report_next_to_the_input_by_default(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("account_id,event_time,event_type\nghost,2024-05-01T10:00:00Z,x\n")
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_data", "--kind", "events", str(path), stdout=out)
    report = tmp_path / "events.csv.errors.csv"
    assert "ghost" in report.read_text()
    assert f"Error report: {report}" in out.getvalue()


def test_import_data_exits_zero_when_every_row_is_stored(tmp_path):
    AccountFactory(external_id="a-1")
    path = tmp_path / "events.csv"
    path.write_text("account_id,event_time,event_type\na-1,2024-05-01T10:00:00Z,login\n")
    out = io.StringIO()
    call_command("import_data", "--kind", "events", str(path), stdout=out)
    assert out.getvalue().strip().splitlines()[-1].startswith("1 rows")
    assert not (tmp_path / "events.csv.errors.csv").exists()


def test_import_data_of_a_missing_file_exits_2(tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("import_data", "--kind", "events", str(tmp_path / "nope.csv"))
    assert raised.value.returncode == 2


# --- A worker that dies mid-import ------------------------------------------------------------------------------

FIVE_ACCOUNTS = "account_id,name\n" + "".join(f"r-{n},Resumed {n}\n" for n in range(1, 6))


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the import catches it."""


def _job_killed_after_first_chunk(monkeypatch) -> ImportJob:
    from accounts.imports import runner

    monkeypatch.setattr(runner, "DEFAULT_CHUNK_ROWS", 2)
    real = runner.rows_chunk
    calls = []

    def dies_on_second_chunk(kind, chunk):
        calls.append(chunk)
        if len(calls) == 2:
            raise WorkerKilled
        return real(kind, chunk)

    monkeypatch.setattr(runner, "rows_chunk", dies_on_second_chunk)
    job = ImportJob.objects.create(
        kind="accounts", original_name="five.csv", file=SimpleUploadedFile("five.csv", FIVE_ACCOUNTS.encode())
    )
    with pytest.raises(WorkerKilled):
        import_run(job=job)
    monkeypatch.setattr(runner, "rows_chunk", real)
    job.refresh_from_db()
    return job


def test_a_job_whose_worker_died_is_resumed_by_the_sweep_once_its_heartbeat_is_stale(
    monkeypatch, django_capture_on_commit_callbacks
):
    import datetime as dt

    import time_machine

    from accounts.imports.tasks import recover_stale_imports

    start = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        job = _job_killed_after_first_chunk(monkeypatch)
    assert (job.status, job.processed_rows, job.created_count, job.attempts) == ("running", 2, 2, 1)
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        assert recover_stale_imports() == {"requeued": 0, "failed": 0}  # still within the heartbeat window
    with (
        time_machine.travel(start + dt.timedelta(minutes=11), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert recover_stale_imports() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    # Resumed after the two committed rows: exact totals, every row once.
    assert (job.status, job.processed_rows, job.created_count, job.failed_count, job.attempts) == ("done", 5, 5, 0, 2)
    assert Account.objects.filter(external_id__startswith="r-").count() == 5


def test_a_job_that_keeps_dying_is_failed_with_a_clear_message_on_its_page(client, manager):
    import datetime as dt

    import time_machine

    from accounts.imports.runner import IMPORT_MAX_ATTEMPTS, import_jobs_recover

    start = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
    upload = SimpleUploadedFile("big.csv", b"account_id\nx\n")
    dying = ImportJob.objects.create(kind="accounts", file=upload, status="running", heartbeat_at=start,
                                     attempts=IMPORT_MAX_ATTEMPTS)  # fmt: skip
    cli = ImportJob.objects.create(kind="events", status="running", heartbeat_at=start, attempts=1)  # no stored file
    alive = ImportJob.objects.create(kind="events", file=upload, status="running", heartbeat_at=start, attempts=1)
    with time_machine.travel(start + dt.timedelta(minutes=11), tick=False):
        alive.heartbeat_at = start + dt.timedelta(minutes=10)
        alive.save(update_fields=["heartbeat_at"])
        assert import_jobs_recover() == {"requeued": 0, "failed": 2}
    for job in (dying, cli, alive):
        job.refresh_from_db()
    assert (dying.status, cli.status, alive.status) == ("failed", "failed", "running")
    assert f"stopped {IMPORT_MAX_ATTEMPTS} times" in dying.error and "importing the same file again" in dying.error
    assert "process ended" in cli.error
    client.force_login(manager)
    page = client.get(reverse("import-detail", args=[dying.pk])).content.decode()
    assert f"stopped {IMPORT_MAX_ATTEMPTS} times without finishing" in page


def test_choices_are_read_by_label_or_value_in_any_case(tmp_path):
    """Spreadsheets and CRM exports write "Enterprise" or "Mid-market", not the stored value."""
    from accounts.models import Account

    path = tmp_path / "accounts.csv"
    path.write_text("account_id,name,segment\nacme,Acme,SMB\nglobex,Globex,Mid-market\ninitech,Initech,enterprise\n")
    call_command("import_data", "--kind", "accounts", str(path), stdout=io.StringIO())
    segments = dict(Account.objects.values_list("external_id", "segment"))
    assert segments == {"acme": "smb", "globex": "mid_market", "initech": "enterprise"}


def test_an_unknown_choice_is_still_a_row_error(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,name,segment\nacme,Acme,Galactic\n")
    with pytest.raises(SystemExit):
        call_command("import_data", "--kind", "accounts", str(path), stdout=io.StringIO())
    assert 'Galactic"" is not a valid choice' in (tmp_path / "accounts.csv.errors.csv").read_text()
