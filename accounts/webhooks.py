"""Inbound webhooks: Stripe billing (POST /webhooks/stripe/) and a generic helpdesk hook (POST /webhooks/helpdesk/).

Helpdesk webhook contract (for Zendesk triggers, Freshdesk automations, Help Scout, or anything that can sign):

    POST /webhooks/helpdesk/
    Content-Type: application/json
    X-Helpdesk-Timestamp: <unix seconds>
    X-Helpdesk-Signature: sha256=<hex HMAC-SHA256(HELPDESK_WEBHOOK_SECRET, "<timestamp>." + raw body)>

    {"event_id": "evt-123",                       # optional; de-duplicates retries (default: ticket id + updated_at)
     "ticket": {"id": "T-1", "subject": "…", "status": "open|pending|resolved|closed|solved|new|hold",
                "priority": "low|normal|high|urgent", "opened_at": "ISO 8601", "resolved_at": "ISO 8601|null",
                "updated_at": "ISO 8601",
                "requester": {"email": "ana@acme.com"},
                "organization": {"external_id": "acc-1", "domain": "acme.com"}}}

The ticket's account is the organisation's external id, else the account whose domain matches the organisation
domain or the requester's e-mail domain (exactly one). Answers: 200 stored, 202 recorded but no account matched
(kept, and attached as soon as an account with that external id — or, without one, that domain — is created or
given that domain), 400 malformed, 401 bad or stale signature (> 5 minutes), 413 over 1 MB.

The views check size, signature and shape; the services are accounts.webhooks_stripe and accounts.webhooks_helpdesk.
"""

from __future__ import annotations

import hmac
import time

import orjson
import stripe
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import InboundWebhookStatus
from accounts.webhooks_helpdesk import TicketRejected, helpdesk_event_apply, helpdesk_signature
from accounts.webhooks_stripe import stripe_event_error, stripe_event_process

MAX_BODY_BYTES = 1024 * 1024
TOLERANCE_SECONDS = 300


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def _body(request: HttpRequest) -> bytes | None:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)
    return body if len(body) <= MAX_BODY_BYTES else None


@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        return _error("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET).", 503)
    body = _body(request)
    if body is None:
        return _error("Body over 1 MB.", 413)
    try:
        # Verifies the signature and timestamp; the payload is then read as plain JSON.
        stripe.Webhook.construct_event(
            body, request.headers.get("Stripe-Signature", ""), secret, tolerance=TOLERANCE_SECONDS
        )
    except (ValueError, UnicodeDecodeError):
        return _error("Malformed JSON.", 400)
    except stripe.SignatureVerificationError:
        return _error("Invalid Stripe signature (wrong secret, altered body or stale timestamp).", 400)
    payload = orjson.loads(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        return _error("Not a Stripe event.", 400)
    outcome = stripe_event_process(event=payload)
    if outcome == InboundWebhookStatus.FAILED:
        # Not 2xx, so Stripe delivers it again (with backoff, for days): once the cause is fixed (an exchange rate
        # added), the next delivery records it. The reason is kept on the event under Integrations meanwhile.
        detail = stripe_event_error(event_id=payload["id"])
        return JsonResponse({"status": outcome, "detail": detail}, status=422)
    return JsonResponse({"status": outcome})


@csrf_exempt
@login_not_required
@require_POST
def helpdesk_webhook(request: HttpRequest) -> JsonResponse:
    secret = settings.HELPDESK_WEBHOOK_SECRET
    if not secret:
        return _error("The helpdesk webhook is not configured (HELPDESK_WEBHOOK_SECRET).", 503)
    body = _body(request)
    if body is None:
        return _error("Body over 1 MB.", 413)
    timestamp = request.headers.get("X-Helpdesk-Timestamp", "")
    signature = request.headers.get("X-Helpdesk-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return _error("Missing or stale X-Helpdesk-Timestamp.", 401)
    if not hmac.compare_digest(signature, helpdesk_signature(secret=secret, timestamp=timestamp, body=body)):
        return _error("Invalid X-Helpdesk-Signature.", 401)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _error("Malformed JSON.", 400)
    ticket = payload.get("ticket") if isinstance(payload, dict) else None
    if not isinstance(ticket, dict) or not ticket.get("id"):
        return JsonResponse({"ticket": {"id": ["A ticket object with an id is required."]}}, status=400)
    event_id = str(payload.get("event_id") or f"{ticket['id']}@{ticket.get('updated_at', '')}")[:255]
    try:
        outcome = helpdesk_event_apply(payload=payload, ticket=ticket, event_id=event_id)
    except TicketRejected as exc:
        return JsonResponse({"ticket": exc.errors}, status=400)
    if outcome == "unmatched":
        return JsonResponse({"status": "unmatched", "detail": "No account matches; recorded for later."}, status=202)
    return JsonResponse({"status": outcome})


urlpatterns = [
    path("stripe/", stripe_webhook, name="webhook-stripe"),
    path("helpdesk/", helpdesk_webhook, name="webhook-helpdesk"),
]
