"""A manager uploads an events file; the page follows the import with an HTMX progress bar until the summary."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from playwright.sync_api import expect

from accounts.imports import runner, tasks
from accounts.models import ImportJob, UsageEvent
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slow_background_import(monkeypatch, settings, tmp_path):
    """Run the import task in a thread, slowed per chunk, so the page has progress to poll."""
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(runner, "CHUNK_ROWS", {"events": 40})
    threads = []

    def delay(job_id: int) -> None:
        def work() -> None:
            try:
                job = ImportJob.objects.get(pk=job_id)
                runner.import_run(job=job, progress=lambda _: time.sleep(0.4))
            finally:
                connection.close()

        thread = threading.Thread(target=work)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(tasks.run_import, "delay", delay)
    yield
    for thread in threads:
        thread.join(timeout=30)


def test_manager_uploads_events_and_watches_progress(live_server, login, tmp_path, slow_background_import):
    UserFactory(username="mia", role="Manager")
    AccountFactory(external_id="acc-1")
    rows = "".join(f"acc-1,2024-05-01T10:{i // 60:02d}:{i % 60:02d}Z,login,u{i % 7}\n" for i in range(400))
    path = tmp_path / "events.csv"
    path.write_text("account_id,event_time,event_type,user_id\n" + rows + "ghost,2024-05-01T10:00:00Z,login,u1\n")

    page = login("mia")
    polls = []
    page.on("request", lambda r: polls.append(r.url) if r.headers.get("hx-request") else None)
    page.get_by_role("link", name="Imports").click()
    page.get_by_label("What").select_option("events")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Upload and import").click()

    progress = page.locator("#import-progress")
    expect(progress.get_by_test_id("import-status")).to_contain_text("Done", timeout=20_000)
    expect(progress.get_by_test_id("created")).to_have_text("400")
    expect(progress.get_by_test_id("failed")).to_have_text("1")
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(progress.get_by_role("link", name="Download the error report (CSV)")).to_be_visible()
    assert polls, "the progress region should have been refreshed by htmx while the import ran"
    assert UsageEvent.objects.count() == 400
