"""Email at most once, against a real SMTP server process: a worker killed while the server holds an accepted
message never leads to a second delivery; the message turns `unknown`, and a person's resend keeps its Message-ID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from messaging.email import outbox, sending
from messaging.models import EmailMessage, EmailStatus
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.integration.conftest import ROOT, free_port, start_worker, stop_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp_sink(tmp_path):
    port = free_port()
    out, hold = tmp_path / "deliveries.txt", tmp_path / "hold"
    out.touch()
    sink = str(ROOT / "tests/integration/smtp_sink.py")
    proc = subprocess.Popen([sys.executable, sink, str(port), str(out), str(hold)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    yield port, out, hold
    proc.kill()
    proc.wait(timeout=10)


def test_a_worker_killed_mid_send_never_causes_a_second_delivery(tmp_path, smtp_sink, wait_for, settings):
    port, deliveries, hold = smtp_sink
    hold.touch()
    smtp = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port)}  # fmt: skip
    first = start_worker(tmp_path, name="-a", extra_env=smtp)
    second = None
    try:
        contact = ContactFactory(account=AccountFactory(), email="dana@example.com")
        message = outbox.email_queue(to_email=contact.email, subject="Renewal", body_text="Hello",
                                     account=contact.account, contact=contact, source="manual")  # fmt: skip
        wait_for(lambda: deliveries.read_text().count("\n") == 1, timeout=60, message="the server to receive it")
        os.killpg(first.pid, signal.SIGKILL)  # while the server holds the accepted message
        first.wait(timeout=10)
        message.refresh_from_db()
        assert message.status == EmailStatus.SENDING
        second = start_worker(tmp_path, name="-b", extra_env=smtp)
        settings.MESSAGING_EMAIL_STALE_CLAIM_MINUTES = 0
        time.sleep(1)
        sending.email_requeue_stale()  # the recovery sweep
        message.refresh_from_db()
        assert message.status == EmailStatus.UNKNOWN
        # The killed worker's send task comes back (≤ 50 s) and must not send it again.
        wait_for(lambda: "send_email" in (tmp_path / "worker-b.log").read_text()
                 and "'skipped'" in (tmp_path / "worker-b.log").read_text(), timeout=120,
                 message="the redelivered send task")  # fmt: skip
        assert deliveries.read_text().count("\n") == 1
        # A person checks and resends: one more delivery, with the same Message-ID.
        hold.unlink()
        assert sending.email_resolve_unknown(message=message, resend=True, actor=UserFactory(username="ops"))
        wait_for(lambda: deliveries.read_text().count("\n") == 2, timeout=60, message="the resend")
        wait_for(lambda: EmailMessage.objects.get(pk=message.pk).status == EmailStatus.SENT, timeout=30,
                 message="the resend to be recorded")  # fmt: skip
    finally:
        stop_worker(first)
        if second is not None:
            stop_worker(second, tmp_path / "worker-b.log")
    ids = [line.split()[0] for line in deliveries.read_text().splitlines()]
    assert ids == [sending.message_id_header(message)] * 2
