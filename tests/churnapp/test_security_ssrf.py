"""Outgoing requests (webhooks, Slack) refuse IPv6 forms of private IPv4 addresses and connect to the checked
address, so a second DNS answer cannot rebind them to an internal host."""

from __future__ import annotations

import socket

import pytest

from messaging import webhooks
from messaging.notifications import slack_post


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::7f00:1]/x",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a00:5]/x",  # NAT64 of 10.0.0.5
        "http://[64:ff9b:1::7f00:1]/x",  # local-use NAT64
        "http://[2002:7f00:1::1]/x",  # 6to4 of 127.0.0.1
        "http://[2002:a9fe:a9fe::1]/x",  # 6to4 of 169.254.169.254 (cloud metadata)
        "http://[::ffff:127.0.0.1]/x",  # IPv4-mapped
        "http://[::ffff:192.168.1.1]/x",
        "http://[::127.0.0.1]/x",  # IPv4-compatible
    ],
)
def test_ipv6_forms_of_private_ipv4_addresses_are_refused(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOKS_ALLOWED_HOSTS = []
    with pytest.raises(webhooks.UnsafeUrl):
        webhooks.check_url(url)


@pytest.mark.parametrize("url", ["http://[64:ff9b::808:808]/x", "http://[2002:808:808::1]/x", "http://8.8.8.8/x"])
def test_ipv6_forms_of_public_ipv4_addresses_pass(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOKS_ALLOWED_HOSTS = []
    assert webhooks.check_url(url)[2] == 80


class _FakeResponse:
    status = 200

    def read(self, *args, **kwargs) -> bytes:
        return b"ok"

    def release_conn(self) -> None:
        pass


def test_slack_post_connects_to_the_address_it_checked(settings, monkeypatch):
    """DNS rebinding: the first answer is public (passes the check), every later one is loopback."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOKS_ALLOWED_HOSTS = []
    answers = []

    def rebinding_getaddrinfo(host, port, *args, **kwargs):
        ip = "93.184.216.34" if not answers else "127.0.0.1"
        answers.append(ip)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    connected_to = []

    def fake_urlopen(self, method, url, *args, **kwargs):
        connected_to.append(self.host)
        return _FakeResponse()

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    monkeypatch.setattr("urllib3.connectionpool.HTTPConnectionPool.urlopen", fake_urlopen)
    assert slack_post(text="Hi", url="http://hooks.slack.test/services/T/B/x") == 200
    assert connected_to == ["93.184.216.34"]
    assert answers == ["93.184.216.34"]


def test_slack_post_refuses_a_private_webhook(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOKS_ALLOWED_HOSTS = []
    with pytest.raises(webhooks.UnsafeUrl):
        slack_post(text="Hi", url="http://[2002:7f00:1::1]/hook")
