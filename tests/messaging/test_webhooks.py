from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.urls import reverse

from accounts import services
from messaging import webhooks
from messaging.models import WebhookDelivery, WebhookEndpoint
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP endpoint that records requests and answers with the next status code in `codes`."""

    def __init__(self, codes: list[int]):
        self.codes = codes
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.codes.pop(0) if len(receiver.codes) > 1 else receiver.codes[0]
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    made = []

    def make(codes: list[int]) -> Receiver:
        made.append(Receiver(codes))
        return made[-1]

    yield make
    for r in made:
        r.close()


def emit_and_run(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return webhooks.webhook_emit(**kwargs)


def test_delivery_is_signed_with_a_timestamp(receiver, django_capture_on_commit_callbacks):
    r = receiver([200])
    endpoint = webhooks.endpoint_create(url=r.url, events=["task.created"])
    emit_and_run(django_capture_on_commit_callbacks, event="task.created", payload={"task_id": 1})
    headers, body = r.requests[0]
    parts = dict(p.split("=", 1) for p in headers["X-Churnapp-Signature"].split(","))
    expected = hmac.new(endpoint.secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert json.loads(body)["data"] == {"task_id": 1}
    assert headers["X-Churnapp-Event"] == "task.created"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("succeeded", 200, 1)


def test_failures_are_retried_then_succeed(receiver, django_capture_on_commit_callbacks):
    r = receiver([500, 503, 200])
    webhooks.endpoint_create(url=r.url, events=["task.created"])
    emit_and_run(django_capture_on_commit_callbacks, event="task.created", payload={})
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 3, 200)
    assert len(r.requests) == 3


def test_retries_back_off_exponentially():
    assert [webhooks.retry_delay(n) for n in range(1, 6)] == [30, 60, 120, 240, 480]


def test_gives_up_after_max_attempts_and_disables_after_repeated_failures(
    receiver, django_capture_on_commit_callbacks, admin_user
):
    r = receiver([500])
    endpoint = webhooks.endpoint_create(url=r.url, events=["task.created"], created_by=admin_user)
    for _ in range(webhooks.DISABLE_AFTER_FAILED_DELIVERIES):
        emit_and_run(django_capture_on_commit_callbacks, event="task.created", payload={})
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("failed", webhooks.MAX_ATTEMPTS)}
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "failed deliveries" in endpoint.disabled_reason
    assert "disabled" in mail.outbox[0].subject
    emit_and_run(django_capture_on_commit_callbacks, event="task.created", payload={})
    assert WebhookDelivery.objects.count() == webhooks.DISABLE_AFTER_FAILED_DELIVERIES


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.0.0.5/x", "http://169.254.169.254/latest/meta-data",
     "http://[::1]/x", "ftp://example.com/x"],
)  # fmt: skip
def test_private_and_loopback_targets_are_refused(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(webhooks.UnsafeUrl):
        webhooks.check_url(url)


def test_ssrf_refusal_is_logged_on_the_delivery(settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/x", events=["ping"], secret="s")
    emit_and_run(django_capture_on_commit_callbacks, event="ping", payload={})
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_code is None and "non-public" in delivery.error


def test_allowed_hosts_setting_lets_one_internal_host_through(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOKS_ALLOWED_HOSTS = ["localhost"]
    assert webhooks.check_url("http://localhost:8080/x")[0] == "localhost"


def test_status_change_and_new_task_emit_events(receiver, django_capture_on_commit_callbacks):
    r = receiver([200])
    webhooks.endpoint_create(url=r.url, events=["account.status_changed", "task.created"])
    account = AccountFactory(status="active")
    with django_capture_on_commit_callbacks(execute=True):
        services.account_set_status(account=account, status="at_risk", actor=None)
        services.task_create(account=account, title="Call", created_by=None)
    events = [json.loads(body) for _, body in r.requests]
    assert [e["event"] for e in events] == ["account.status_changed", "task.created"]
    assert events[0]["data"]["new"] == "at_risk" and events[0]["data"]["old"] == "active"


def test_admin_subscribes_an_endpoint_in_the_ui_and_private_urls_are_refused(client, admin_user, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    client.force_login(admin_user)
    response = client.post(reverse("webhook-endpoints"), {"url": "http://127.0.0.1/x", "events": ["task.created"]})
    assert response.status_code == 200 and "non-public" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    response = client.post(reverse("webhook-endpoints"), {"url": "http://127.0.0.1/x", "events": ["task.created"]})
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("webhook-endpoint-detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret in page


def test_only_admins_manage_webhooks(client, manager):
    client.force_login(manager)
    assert client.get(reverse("webhook-endpoints")).status_code == 403
