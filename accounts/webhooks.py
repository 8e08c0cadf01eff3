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
"""

from __future__ import annotations

import hashlib
import hmac
import time

import orjson
import stripe
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.imports.services.pending_tickets import PENDING_TICKETS_SOURCE
from accounts.imports.services.rows import RowErrors
from accounts.imports.services.writes import bulk_upsert
from accounts.models import Account, InboundWebhookEvent, InboundWebhookStatus
from accounts.webhooks_stripe import stripe_event_process

MAX_BODY_BYTES = 1024 * 1024
TOLERANCE_SECONDS = 300
HELPDESK_STATUS = {"new": "open", "open": "open", "hold": "pending", "pending": "pending", "solved": "resolved",
                   "resolved": "resolved", "closed": "closed"}  # fmt: skip


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
    return JsonResponse({"status": stripe_event_process(event=payload)})


def helpdesk_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _helpdesk_account(ticket: dict) -> Account | None:
    organization = ticket.get("organization") or {}
    requester = ticket.get("requester") or {}
    external_id = organization.get("external_id")
    if external_id:
        account = Account.objects.filter(external_id=str(external_id)).first()
        if account:
            return account
    domains = [organization.get("domain") or ""]
    email = requester.get("email") or ""
    if isinstance(email, str) and "@" in email:
        domains.append(email.rsplit("@", 1)[1])
    for domain in domains:
        if isinstance(domain, str) and domain.strip():
            matches = list(Account.objects.filter(domain__iexact=domain.strip().lower())[:2])
            if len(matches) == 1:
                return matches[0]
    return None


def _helpdesk_ref(ticket: dict) -> str:
    """What an unmatched ticket waits for: the organisation's external id, else "@<domain>" (the organisation's
    domain or the requester's e-mail domain)."""
    organization = ticket.get("organization") if isinstance(ticket.get("organization"), dict) else {}
    requester = ticket.get("requester") if isinstance(ticket.get("requester"), dict) else {}
    if organization.get("external_id"):
        return str(organization["external_id"])
    domain = organization.get("domain")
    email = requester.get("email")
    if not (isinstance(domain, str) and domain.strip()) and isinstance(email, str) and "@" in email:
        domain = email.rsplit("@", 1)[1]
    return f"@{domain.strip().lower()}" if isinstance(domain, str) and domain.strip() else ""


def helpdesk_unmatched_replay(*, external_ids: list[str], domains: list[str]) -> int:
    """Attach the kept tickets (helpdesk webhook and REST upserts) waiting for these accounts, oldest first, so
    the latest state of each ticket wins; returns how many were applied."""
    refs = {str(e) for e in external_ids if e} | {f"@{d.strip().lower()}" for d in domains if d and d.strip()}
    if not refs:
        return 0
    waiting = InboundWebhookEvent.objects.filter(
        source__in=("helpdesk", PENDING_TICKETS_SOURCE), type="ticket", status=InboundWebhookStatus.UNMATCHED,
        customer_ref__in=refs,
    ).order_by("received_at", "id")  # fmt: skip
    applied = 0
    for record in waiting:
        if record.source == "helpdesk":
            response = _helpdesk_apply(
                payload=record.payload, ticket=record.payload["ticket"], event_id=record.event_id
            )
            applied += response.status_code == 200
            continue
        try:
            with transaction.atomic():
                result = bulk_upsert(kind="tickets", rows=[record.payload])
        except RowErrors as exc:
            record.status, record.error = InboundWebhookStatus.FAILED, str(exc.errors[0]["errors"])[:2000]
            record.save(update_fields=["status", "error"])
            continue
        if not result.pending:
            record.status, record.processed_at = InboundWebhookStatus.PROCESSED, timezone.now()
            record.account = Account.objects.filter(external_id=record.payload.get("account")).first()
            record.save(update_fields=["status", "processed_at", "account"])
            applied += 1
    return applied


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
    return _helpdesk_apply(payload=payload, ticket=ticket, event_id=event_id)


@transaction.atomic
def _helpdesk_apply(*, payload: dict, ticket: dict, event_id: str) -> JsonResponse:
    try:
        with transaction.atomic():
            record = InboundWebhookEvent.objects.create(
                source="helpdesk", event_id=event_id, type="ticket", payload=payload,
                status=InboundWebhookStatus.FAILED,
            )  # fmt: skip
    except IntegrityError:
        record = InboundWebhookEvent.objects.get(source="helpdesk", event_id=event_id)
        if record.status == InboundWebhookStatus.PROCESSED:
            return JsonResponse({"status": "duplicate"})
    account = _helpdesk_account(ticket)
    if account is None:
        record.status, record.customer_ref = InboundWebhookStatus.UNMATCHED, _helpdesk_ref(ticket)[:255]
        record.save(update_fields=["status", "customer_ref"])
        return JsonResponse({"status": "unmatched", "detail": "No account matches; recorded for later."}, status=202)
    row = {
        "external_id": str(ticket["id"]),
        "account": account.external_id,
        "subject": ticket.get("subject") or "(no subject)",
        "status": HELPDESK_STATUS.get(str(ticket.get("status", "open")).lower(), ticket.get("status")),
        "priority": ticket.get("priority") or "normal",
        "opened_at": ticket.get("opened_at") or ticket.get("created_at") or timezone.now().isoformat(),
        "resolved_at": ticket.get("resolved_at"),
    }
    try:
        bulk_upsert(kind="tickets", rows=[row])
    except RowErrors as exc:
        transaction.set_rollback(True)
        return JsonResponse({"ticket": exc.errors[0]["errors"]}, status=400)
    record.status, record.account, record.processed_at = InboundWebhookStatus.PROCESSED, account, timezone.now()
    record.save(update_fields=["status", "account", "processed_at"])
    return JsonResponse({"status": "processed"})


urlpatterns = [
    path("stripe/", stripe_webhook, name="webhook-stripe"),
    path("helpdesk/", helpdesk_webhook, name="webhook-helpdesk"),
]
