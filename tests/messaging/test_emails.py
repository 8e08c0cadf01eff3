from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from messaging.email import outbox, render, sending, tracking
from messaging.models import EmailMessage, EmailStatus, Suppression
from messaging.selectors import contact_emails_sent_since, email_template_stats
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.messaging.factories import EmailMessageFactory, EmailTemplateFactory

pytestmark = pytest.mark.django_db

BROWSER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


@pytest.fixture
def contact():
    owner = UserFactory(first_name="Olive", last_name="Owner")
    account = AccountFactory(name="Acme <Mail>", owner=owner, plan="growth")
    return ContactFactory(account=account, name="Dana Client", email="dana@acme.example")


def _queue(contact, **kwargs):
    defaults = {
        "to_email": contact.email,
        "subject": "Hi",
        "body_text": "Hello",
        "account": contact.account,
        "contact": contact,
        "source": "rule",
    }
    return outbox.email_queue(**{**defaults, **kwargs})


def test_render_escapes_values_in_html_and_keeps_text_plain(contact):
    EmailTemplateFactory(key="welcome", body_html="<p>Welcome {{ account.name }}</p>")
    subject, text, html = render.email_render(
        template_key="welcome", context=render.email_context(account=contact.account, contact=contact)
    )
    assert subject == "Hello Dana from Acme <Mail>"
    assert "Your plan: growth" in text and "Olive Owner" in text
    assert html == "<p>Welcome Acme &lt;Mail&gt;</p>"


def test_render_text_only_template_builds_escaped_html_with_links(contact):
    EmailTemplateFactory(key="plain")
    _, _, html = render.email_render(
        template_key="plain", context=render.email_context(account=contact.account, contact=contact)
    )
    assert "<p>" in html and 'href="https://example.com/guide"' in html


def test_render_gives_no_access_to_objects_or_template_tags(contact):
    context = {"account": {"name": "A", "owner": contact.account.owner}, "secret": object()}
    out = render.render_string(
        "{{ account.owner.password }}|{{ secret }}|{% debug %}|{{ account.name.upper }}|{{ missing.x }}", context
    )
    assert out == "||{% debug %}||"


def test_render_unknown_template_raises():
    with pytest.raises(render.TemplateNotFound):
        render.email_render(template_key="nope", context={})


def test_queue_sends_through_the_backend_with_unsubscribe_pixel_and_tracked_links(contact):
    message = _queue(contact, body_text="See https://example.com/x", body_html='<a href="https://example.com/x">x</a>')
    message.refresh_from_db()
    assert message.status == EmailStatus.SENT and message.sent_at is not None
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    html = sent.alternatives[0][0]
    assert "/e/unsubscribe/" in sent.body and "/e/unsubscribe/" in html
    assert "/e/o/" in html and "/e/c/" in html and 'href="https://example.com/x"' not in html
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert contact.account.activities.filter(kind="email").exists()


def test_queue_is_idempotent_on_dedupe_key(contact):
    first = _queue(contact, dedupe_key="rule:1:acct:1")
    second = _queue(contact, dedupe_key="rule:1:acct:1")
    assert first.pk == second.pk
    assert EmailMessage.objects.count() == 1 and len(mail.outbox) == 1


def test_suppressed_address_is_recorded_not_sent(contact):
    Suppression.objects.create(email="dana@acme.example")
    message = _queue(contact, to_email="Dana@Acme.example")
    assert message.status == EmailStatus.SUPPRESSED and "suppression" in message.status_reason
    assert mail.outbox == []


def test_unsubscribed_contact_is_not_sent(contact):
    contact.unsubscribed = True
    contact.save()
    message = _queue(contact)
    assert message.status == EmailStatus.SUPPRESSED and message.status_reason == "Contact unsubscribed."


def test_frequency_cap_suppresses_a_second_automated_email_within_three_days(contact):
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)):
        assert _queue(contact).status == EmailStatus.QUEUED
        second = _queue(contact, source="playbook")
        assert second.status == EmailStatus.SUPPRESSED and "Frequency cap" in second.status_reason
        manual = _queue(contact, source="manual")
        assert manual.status != EmailStatus.SUPPRESSED
        uncapped = _queue(contact, source="survey", respect_frequency_cap=False)
        assert uncapped.status != EmailStatus.SUPPRESSED
    with time_machine.travel(dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC)):
        assert _queue(contact).status == EmailStatus.QUEUED


def test_contact_emails_sent_since_counts_automated_queued_and_sent_only(contact):
    since = timezone.now() - dt.timedelta(days=1)
    EmailMessageFactory(contact=contact, status=EmailStatus.SENT, source="survey")
    EmailMessageFactory(contact=contact, status=EmailStatus.QUEUED, source="rule")
    EmailMessageFactory(contact=contact, status=EmailStatus.SUPPRESSED, source="rule")
    EmailMessageFactory(contact=contact, status=EmailStatus.SENT, source="manual")
    assert contact_emails_sent_since(contact_ids=[contact.pk], since=since) == {contact.pk: 2}
    assert contact_emails_sent_since(contact_ids=[contact.pk], since=since, sources=["survey"]) == {contact.pk: 1}


def test_backend_failure_is_recorded_and_retried_then_failed(contact, settings, monkeypatch):
    def boom(self, *a, **k):
        raise ConnectionRefusedError("SMTP down")  # nothing was handed over: safe to retry

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.open", boom, raising=False)
    monkeypatch.setattr("messaging.tasks.send_email.apply_async", lambda *a, **k: None)
    message = _queue(contact)
    for _ in range(2):
        assert sending.email_send(message_id=message.pk) == "retry"
    assert sending.email_send(message_id=message.pk) == "failed"  # third attempt is final
    message.refresh_from_db()
    assert message.status == EmailStatus.FAILED and "SMTP down" in message.status_reason


def test_send_skips_a_message_already_claimed_or_sent(contact):
    message = _queue(contact)
    assert sending.email_send(message_id=message.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_unsubscribe_link_shows_confirmation_then_suppresses_and_marks_contact(client, contact):
    url = reverse("messaging:email-unsubscribe", args=[tracking.unsubscribe_token(contact.email)])
    page = client.get(url)  # no login
    assert page.status_code == 200 and b"Unsubscribe" in page.content
    assert not Suppression.objects.exists()  # a scanner's GET changes nothing
    done = client.post(url)
    assert done.status_code == 200
    assert Suppression.objects.filter(email=contact.email).exists()
    contact.refresh_from_db()
    assert contact.unsubscribed
    assert _queue(contact).status == EmailStatus.SUPPRESSED


def test_unsubscribe_with_a_forged_token_is_refused(client):
    response = client.post(reverse("messaging:email-unsubscribe", args=["forged:token"]))
    assert response.status_code == 400 and not Suppression.objects.exists()


def test_open_pixel_and_click_redirect_count_people_not_scanners(client, contact):
    message = _queue(contact)
    open_path = tracking.open_url(message).split("://", 1)[1].split("/", 1)[1]
    click_path = tracking.click_url(message, "https://example.com/pricing").split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + open_path, HTTP_USER_AGENT="Mozilla/5.0 (compatible; Barracuda scanner)").status_code == 200
    message.refresh_from_db()
    assert message.opened_at is None
    response = client.get("/" + click_path, HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 302 and response["Location"] == "https://example.com/pricing"
    message.refresh_from_db()
    assert message.clicked_at and message.opened_at and message.click_count == 1


def test_click_with_a_tampered_url_is_not_redirected(client, contact):
    message = _queue(contact)
    signed = tracking.click_url(message, "https://example.com/").rstrip("/").rsplit("/", 1)[1]
    response = client.get(reverse("messaging:email-click", args=[signed[:-2] + "xx"]))
    assert response.status_code == 404


def test_template_stats_count_sent_opened_clicked(contact):
    template = EmailTemplateFactory(key="stats")
    EmailMessageFactory(template=template, status=EmailStatus.SENT, opened_at=timezone.now())
    EmailMessageFactory(template=template, status=EmailStatus.SENT, clicked_at=timezone.now(), opened_at=timezone.now())
    EmailMessageFactory(template=template, status=EmailStatus.SUPPRESSED)
    row = email_template_stats().get(pk=template.pk)
    assert (row.n_sent, row.n_opened, row.n_clicked, row.n_suppressed) == (2, 2, 1, 1)


def test_requeue_stale_resends_a_message_whose_task_was_lost(contact, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr("messaging.tasks.send_email.apply_async", lambda *a, **k: None)  # the broker lost it
        message = _queue(contact)
    EmailMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert sending.email_requeue_stale() == 1
    message.refresh_from_db()
    assert message.status == EmailStatus.SENT and len(mail.outbox) == 1


def _reactivation_mail(account, contact) -> tuple[str, str]:
    from automations.builtins import EMAIL_TEMPLATES

    _, _, subject, body = next(t for t in EMAIL_TEMPLATES if t[0] == "reactivation-1")
    rendered_subject, text, _ = render.email_render_source(
        subject=subject, body_text=body, body_html="", context=render.email_context(account=account, contact=contact)
    )
    return rendered_subject, text


@time_machine.travel(dt.datetime(2026, 5, 20, 12, tzinfo=dt.UTC))
def test_reactivation_mail_names_when_the_team_was_last_seen_and_what_it_used():
    from health.models import FeatureFirstUse

    account = AccountFactory(
        name="Acme", plan="Growth", owner=UserFactory(), last_seen_at=dt.datetime(2026, 5, 4, 9, tzinfo=dt.UTC)
    )
    contact = ContactFactory(account=account, name="Dana Smith")
    FeatureFirstUse.objects.create(account=account, feature="campaign_sent", first_day=dt.date(2026, 1, 5))
    FeatureFirstUse.objects.create(account=account, feature="automation_created", first_day=dt.date(2026, 2, 1))

    subject, text = _reactivation_mail(account, contact)

    assert "miss you" not in (subject + text).lower()
    assert "quiet at Acme since 4 May." in text
    assert "on Growth (campaign sent, automation created) is still there" in text


def test_reactivation_mail_reads_well_for_an_account_never_seen():
    account = AccountFactory(name="Acme", plan="Growth", owner=UserFactory(), last_seen_at=None)
    _, text = _reactivation_mail(account, ContactFactory(account=account))

    assert "quiet at Acme since the account was opened." in text
    assert "(your workspace)" in text
    assert "()" not in text and all("  " not in line for line in text.splitlines())  # no gap for a missing fact


def test_every_attempt_carries_the_same_message_id(contact):
    message = _queue(contact)
    assert mail.outbox[0].extra_headers["Message-ID"] == sending.message_id_header(message)
    assert sending.message_id_header(message) == f"<{message.token}@localhost>"


def test_a_refusal_by_the_server_is_retried_but_an_interrupted_send_is_unknown_and_never_resent(contact, monkeypatch):
    import smtplib

    monkeypatch.setattr("messaging.tasks.send_email.apply_async", lambda *a, **k: None)
    message = _queue(contact)  # sent once by the on-commit task
    mail.outbox.clear()
    EmailMessage.objects.filter(pk=message.pk).update(status=EmailStatus.QUEUED, attempts=0)

    def refused(self, messages):
        raise smtplib.SMTPRecipientsRefused({contact.email: (450, b"mailbox busy")})

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refused)
    assert sending.email_send(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert (message.status, message.claimed_at) == (EmailStatus.QUEUED, None)

    def cut(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")  # after DATA: maybe delivered

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", cut)
    assert sending.email_send(message_id=message.pk) == "unknown"
    message.refresh_from_db()
    assert message.status == EmailStatus.UNKNOWN and "resend or mark sent" in message.status_reason
    assert sending.email_send(message_id=message.pk) == "skipped"
    EmailMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    assert sending.email_requeue_stale() == 0


def test_a_message_left_mid_send_by_a_killed_worker_becomes_unknown_not_resent(contact, monkeypatch):
    monkeypatch.setattr("messaging.tasks.send_email.apply_async", lambda *a, **k: None)
    message = _queue(contact)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    # The worker claimed it and died inside the SMTP conversation.
    EmailMessage.objects.filter(pk=message.pk).update(status=EmailStatus.SENDING, claimed_at=long_ago,
                                                      created_at=long_ago)  # fmt: skip
    assert sending.email_requeue_stale() == 0
    message.refresh_from_db()
    assert message.status == EmailStatus.UNKNOWN and message.status_reason == sending.STALE_SEND_REASON
    assert mail.outbox == []


def test_a_person_resends_or_marks_sent_an_unknown_message_from_the_outbox(client, manager, contact, monkeypatch):
    first, second = _queue(contact, source="manual"), _queue(contact, subject="Second", source="manual")
    EmailMessage.objects.filter(pk__in=[first.pk, second.pk]).update(status=EmailStatus.UNKNOWN)
    mail.outbox.clear()
    client.force_login(manager)
    page = client.get(reverse("messaging:email-list"))
    assert b"left mid-send" in page.content and b"Mark sent" in page.content
    url = reverse("messaging:email-resolve", args=[first.pk])
    response = client.post(url, {"action": "resend"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == EmailStatus.SENT and len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == sending.message_id_header(first)
    client.post(reverse("messaging:email-resolve", args=[second.pk]), {"action": "mark-sent"})
    second.refresh_from_db()
    assert second.status == EmailStatus.SENT and "Marked sent by manager" in second.status_reason
    assert len(mail.outbox) == 1


def test_a_viewer_cannot_resolve_unknown_messages(client, viewer, contact):
    message = _queue(contact)
    EmailMessage.objects.filter(pk=message.pk).update(status=EmailStatus.UNKNOWN)
    client.force_login(viewer)
    assert client.post(reverse("messaging:email-resolve", args=[message.pk]), {"action": "resend"}).status_code == 403
    message.refresh_from_db()
    assert message.status == EmailStatus.UNKNOWN
