"""Links in text-only e-mails come from the template (or the system's own URLs), never from substituted data."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from messaging.email import outbox, render
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

EVIL = "https://evil.example/login"


@pytest.fixture
def contact():
    # A name set by a tracking identify call carries a URL.
    return ContactFactory(account=AccountFactory(name="Acme"), name=EVIL, email="dana@acme.example")


def test_text_template_links_its_own_urls_but_not_substituted_values(contact):
    context = render.email_context(
        account=contact.account, contact=contact, extra={"survey": {"url": "https://app.example/s/tok"}}
    )
    _, text, html = render.email_render_source(
        subject="Hi",
        body_text="Hi {{ contact.name }},\n\nread https://example.com/guide and answer {{ survey.url }}",
        body_html="",
        context=context,
    )
    assert EVIL in text  # the text part is the text
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs == ["https://example.com/guide", "https://app.example/s/tok"]
    assert EVIL in html  # shown as text, not linked


def test_sent_mail_tracks_only_the_templates_links(contact, django_capture_on_commit_callbacks):
    context = render.email_context(account=contact.account, contact=contact)
    subject, text, html = render.email_render_source(
        subject="Hi", body_text="Hello {{ contact.name }}, see https://example.com/guide", body_html="", context=context
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbox.email_queue(
            to_email=contact.email, subject=subject, body_text=text, body_html=html, account=contact.account,
            contact=contact, source="rule",
        )  # fmt: skip
    sent = mail.outbox[0].alternatives[0][0]
    tracked = re.findall(r'href="([^"]*/e/c/[^"]*)"', sent)
    assert len(tracked) == 1
    assert EVIL in sent and f'href="{EVIL}"' not in sent


def test_text_only_notification_links_only_this_sites_urls(settings):
    settings.SITE_URL = "https://app.churn.example"
    html = render.text_to_html(f"Account renamed to {EVIL}\n\nhttps://app.churn.example/accounts/5/")
    assert re.findall(r'href="([^"]+)"', html) == ["https://app.churn.example/accounts/5/"]
    assert EVIL in html
