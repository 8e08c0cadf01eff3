"""Outgoing webhooks: subscribe URLs to platform events, deliver signed payloads, retry, auto-disable.

Signature: every delivery carries `X-Churnapp-Signature: t=<unix time>,v1=<hex>` where `<hex>` is
HMAC-SHA256(endpoint secret, f"{t}." + raw body). Receivers recompute it and reject stale timestamps.

SSRF: a URL is resolved before every attempt and refused when any address is loopback, private, link-local,
multicast, reserved or unspecified — or is an IPv6 form that embeds such an IPv4 address (IPv4-mapped,
IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo) —, unless settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS
is on or its host is in settings.WEBHOOKS_ALLOWED_HOSTS. The connection then goes to the address that was checked
(no second DNS lookup an attacker could rebind), redirects are not followed. The Slack notification webhook is
sent the same way (`post_pinned`).

Lower apps announce domain events through `churnapp.hooks` (e.g. `hooks.notify(hooks.TASK_CREATED,
[payload])`) inside their transaction; `MessagingConfig.ready()` registers `domain_event_hook(event)` for each, which
creates the deliveries in that same transaction. Automations' "fire webhook" action calls `webhook_emit` directly.
Deliveries are sent after commit by `messaging.tasks.deliver_webhook`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import orjson
import urllib3
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.capture import update_recorded
from churnapp import hooks
from churnapp.preferences import user_language
from messaging.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min between the six attempts
DISABLE_AFTER_FAILED_DELIVERIES = 5
TIMEOUT = urllib3.Timeout(connect=5, read=10)


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks (scheme, unresolvable host or a non-public address)."""


def _allow_private() -> bool:
    return getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False)


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo client), which
    reaches that IPv4 host through a translator or tunnel; `ipaddress` reports most of these forms as global."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Global unicast, and so is any IPv4 address it embeds; local-use NAT64 (64:ff9b:1::/48) never is."""
    if not address.is_global or address.is_multicast or address in _NAT64_LOCAL:
        return False
    embedded = _embedded_ipv4(address)
    return embedded is None or (embedded.is_global and not embedded.is_multicast)


def check_url(url: str) -> tuple[str, str, int]:
    """Validate a webhook URL; returns (hostname, checked ip, port) to connect to, or raises UnsafeUrl."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl(_("Use an http:// or https:// URL with a host name."))
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(_("Cannot resolve %(host)s.") % {"host": host}) from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    allowed = _allow_private() or host in getattr(settings, "WEBHOOKS_ALLOWED_HOSTS", [])
    if not allowed:
        for address in addresses:
            if not is_public_address(address):
                raise UnsafeUrl(
                    _("%(host)s resolves to a non-public address (%(address)s); refused.")
                    % {"host": host, "address": address}
                )
    return host, str(addresses[0]), port


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The v1 signature: hex HMAC-SHA256 of `<timestamp>.<body>` with the endpoint's secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={sign(secret=secret, timestamp=timestamp, body=body)}"


def endpoint_create(
    *,
    url: str,
    events: list[str],
    description: str = "",
    created_by: AbstractBaseUser | None = None,
    key: str = "",
    secret: str = "",
) -> WebhookEndpoint:
    """Subscribe `url` to `events`. The signing secret is generated unless given; the key is made from the
    description or the host unless given."""
    endpoint = WebhookEndpoint(
        key=key,
        url=url,
        events=sorted(set(events)),
        description=description,
        secret=secret or f"whsec_{secrets.token_hex(24)}",
        created_by=created_by,
    )
    endpoint.save()
    return endpoint


def endpoint_update(
    *, endpoint: WebhookEndpoint, key: str, url: str, events: list[str], description: str, secret: str = ""
) -> WebhookEndpoint:
    """Change an endpoint's key, URL, events and description; its secret only when a new one is given."""
    endpoint.key, endpoint.url, endpoint.description = key, url, description
    endpoint.events = sorted(set(events))
    if secret:
        endpoint.secret = secret
    endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Unsubscribe: the endpoint and its delivery log go."""
    endpoint.delete()


def endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    update_recorded(
        WebhookEndpoint.objects.filter(pk=endpoint.pk),
        is_active=True,
        consecutive_failures=0,
        disabled_at=None,
        disabled_reason="",
    )
    endpoint.refresh_from_db()
    return endpoint


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> WebhookEndpoint:
    update_recorded(
        WebhookEndpoint.objects.filter(pk=endpoint.pk),
        is_active=False,
        disabled_at=timezone.now(),
        disabled_reason=reason[:255],
    )
    endpoint.refresh_from_db()
    return endpoint


def webhook_subscribed(event: str) -> bool:
    """Whether any active endpoint listens to `event`: emitters skip building payloads nobody receives."""
    return any(event in e.events for e in WebhookEndpoint.objects.filter(is_active=True).only("events"))


def webhook_emit(*, event: str, payload: dict, endpoints: list[WebhookEndpoint] | None = None) -> list[WebhookDelivery]:
    """Queue `event` for every active endpoint subscribed to it (or the given ones); sent after commit."""
    return webhook_emit_many(event=event, payloads=[payload], endpoints=endpoints)


def webhook_emit_many(
    *, event: str, payloads: list[dict], endpoints: list[WebhookEndpoint] | None = None
) -> list[WebhookDelivery]:
    """One delivery per (payload, subscribed endpoint), created in one INSERT and queued after commit."""
    if not payloads:
        return []
    if endpoints is None:
        endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if event in e.events]
    if not endpoints:
        return []
    now = timezone.now().isoformat()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=e, event=event, payload={"event": event, "created_at": now, "data": payload})
            for payload in payloads
            for e in endpoints
        ]
    )
    hooks.notify(hooks.WEBHOOKS_QUEUED, [d.pk for d in deliveries])
    return deliveries


def domain_event_hook(event: str):
    """The in-transaction hook that turns a domain event's payloads into deliveries (one function per event, made
    once, so registering it again is a no-op)."""
    if event not in _EVENT_HOOKS:

        def hook(payloads: list[dict]) -> None:
            webhook_emit_many(event=event, payloads=payloads)

        hook.__qualname__ = f"domain_event_hook[{event}]"
        _EVENT_HOOKS[event] = hook
    return _EVENT_HOOKS[event]


_EVENT_HOOKS: dict[str, object] = {}


def post_pinned(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST to `url` after `check_url`, connecting to the address that was checked (TLS still verifies the host
    name), without redirects; returns (status, first 500 bytes of the answer). Raises UnsafeUrl."""
    host, ip, port = check_url(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1]}
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            ip, port, timeout=TIMEOUT, retries=False, server_hostname=host, assert_hostname=host
        )
    else:
        pool = urllib3.HTTPConnectionPool(ip, port, timeout=TIMEOUT, retries=False)
    with pool:
        response = pool.urlopen("POST", path, body=body, headers=headers, redirect=False, preload_content=False)
        try:
            snippet = response.read(500, decode_content=False).decode("utf-8", "replace")
        finally:
            response.release_conn()
    return response.status, snippet


def delivery_attempt(*, delivery_id: int) -> str:
    """Send one attempt of a delivery. Returns "succeeded", "retry" (try again later) or "failed" (gave up)."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return delivery.status if delivery else DeliveryStatus.FAILED
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, error="Endpoint disabled before delivery."
        )
        return DeliveryStatus.FAILED
    body = orjson.dumps(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "churnapp-webhooks/1",
        "X-Churnapp-Event": delivery.event,
        "X-Churnapp-Delivery": str(delivery.pk),
        "X-Churnapp-Signature": signature_header(secret=endpoint.secret, body=body),
    }
    code, error = None, ""
    try:
        code, snippet = post_pinned(endpoint.url, body, headers)
        if not 200 <= code < 300:
            error = f"HTTP {code}: {snippet[:200]}"
    except UnsafeUrl as exc:
        error = str(exc)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    now = timezone.now()
    attempts = delivery.attempts + 1
    update = {"attempts": attempts, "response_code": code, "error": error, "last_attempt_at": now}
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SUCCEEDED, delivered_at=now, **update
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        return DeliveryStatus.SUCCEEDED
    if attempts < MAX_ATTEMPTS:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**update)
        return "retry"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, **update)
    _record_failed_delivery(endpoint=endpoint, error=error)
    return DeliveryStatus.FAILED


def _record_failed_delivery(*, endpoint: WebhookEndpoint, error: str) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    endpoint.refresh_from_db(fields=["consecutive_failures", "is_active"])
    if endpoint.is_active and endpoint.consecutive_failures >= DISABLE_AFTER_FAILED_DELIVERIES:
        reason = f"Disabled after {endpoint.consecutive_failures} failed deliveries in a row (last: {error[:120]})."
        endpoint_disable(endpoint=endpoint, reason=reason)
        logger.warning("Webhook endpoint %s disabled: %s", endpoint.url, reason)
        recipient = getattr(endpoint.created_by, "email", "")
        if recipient:
            # To the endpoint's creator, in their language (the installation's when they chose none).
            with translation.override(user_language(endpoint.created_by) or settings.LANGUAGE_CODE):
                failures = endpoint.consecutive_failures
                send_mail(
                    subject=_("Webhook endpoint disabled: %(url)s") % {"url": endpoint.url},
                    message=_(
                        "Disabled after %(count)s failed deliveries in a row (last: %(error)s).\n\n"
                        "Re-enable it on the webhooks page once the receiver works again."
                    )
                    % {"count": failures, "error": error[:120]},
                    from_email=None,
                    recipient_list=[recipient],
                    fail_silently=True,
                )


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt: exponential backoff from BACKOFF_BASE_SECONDS."""
    return BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)
