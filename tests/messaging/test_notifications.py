from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from messaging.models import Notification
from messaging.notifications import notify

pytestmark = pytest.mark.django_db


def test_notify_creates_in_app_notifications_and_optional_email(csm, teammate, own_account):
    notes = notify(
        users=[csm, teammate],
        title="Ticket open 6 days",
        body="Acme",
        url="/accounts/1/",
        account=own_account,
        email=True,
    )
    assert len(notes) == 2 and Notification.objects.filter(user=csm, read_at__isnull=True).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([csm.email, teammate.email])
    assert "/e/unsubscribe/" not in mail.outbox[0].body  # staff mail has no unsubscribe link


def test_notify_posts_to_slack_when_configured(csm, settings, monkeypatch):
    posted = []
    settings.MESSAGING_SLACK_WEBHOOK_URL = "https://hooks.example.com/T000/B000"
    monkeypatch.setattr("messaging.notifications.slack_post", lambda *, text, url=None: posted.append(text) or 200)
    notify(users=[csm], title="Upsell signal", body="Seats 95% used")
    assert posted == ["*Upsell signal*\nSeats 95% used"]


def test_bell_shows_unread_count_and_mark_read(client, csm, viewer):
    notify(users=[csm], title="Health below 70")
    notify(users=[viewer], title="Not yours")
    client.force_login(csm)
    bell = client.get(reverse("messaging:notification-bell"), HTTP_HX_REQUEST="true")
    assert b"Health below 70" in bell.content and b"Not yours" not in bell.content
    assert b'id="notification-count">1<' in bell.content
    client.post(reverse("messaging:notification-read"), HTTP_HX_REQUEST="true")
    assert not Notification.objects.filter(user=csm, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=viewer, read_at__isnull=True).exists()


def test_notification_pages_need_login(client):
    response = client.get(reverse("messaging:notification-list"))
    assert response.status_code == 302 and "/login/" in response["Location"]
