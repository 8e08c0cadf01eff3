"""Helpdesk tickets → support tickets on accounts (services; the view and its contract are accounts.webhooks).

A ticket's account is the organisation's external id, else the one account whose domain matches the
organisation's domain or the requester's e-mail domain. A ticket no account matches is kept as "unmatched" and
replayed when an account with that external id or domain appears. Idempotent on the event id.
"""

from __future__ import annotations

import hashlib
import hmac

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.imports.services.pending_tickets import PENDING_TICKETS_SOURCE
from accounts.imports.services.rows import RowErrors
from accounts.imports.services.writes import bulk_upsert
from accounts.models import Account, InboundWebhookEvent, InboundWebhookStatus
from audit.context import Actor, acting
from audit.models import ActorKind

HELPDESK_STATUS = {"new": "open", "open": "open", "hold": "pending", "pending": "pending", "solved": "resolved",
                   "resolved": "resolved", "closed": "closed"}  # fmt: skip


class TicketRejected(Exception):
    """The ticket's fields are invalid (field → messages); nothing was stored."""

    def __init__(self, errors: dict) -> None:
        super().__init__(str(errors))
        self.errors = errors


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
            try:
                outcome = helpdesk_event_apply(
                    payload=record.payload, ticket=record.payload["ticket"], event_id=record.event_id
                )
            except TicketRejected:
                continue
            applied += outcome == "processed"
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


def helpdesk_event_apply(*, payload: dict, ticket: dict, event_id: str) -> str:
    """Store one helpdesk event's ticket on its account: "processed", "duplicate" (this event was stored before)
    or "unmatched" (kept for later). Raises TicketRejected, storing nothing, when the ticket's fields are invalid."""
    with transaction.atomic(), acting(actor=Actor(ActorKind.WEBHOOK, event_id[:64], "Helpdesk")):
        try:
            with transaction.atomic():
                record = InboundWebhookEvent.objects.create(
                    source="helpdesk", event_id=event_id, type="ticket", payload=payload,
                    status=InboundWebhookStatus.FAILED,
                )  # fmt: skip
        except IntegrityError:
            record = InboundWebhookEvent.objects.get(source="helpdesk", event_id=event_id)
            if record.status == InboundWebhookStatus.PROCESSED:
                return "duplicate"
        account = _helpdesk_account(ticket)
        if account is None:
            record.status, record.customer_ref = InboundWebhookStatus.UNMATCHED, _helpdesk_ref(ticket)[:255]
            record.save(update_fields=["status", "customer_ref"])
            return "unmatched"
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
            raise TicketRejected(exc.errors[0]["errors"]) from exc
        record.status, record.account, record.processed_at = InboundWebhookStatus.PROCESSED, account, timezone.now()
        record.save(update_fields=["status", "account", "processed_at"])
        return "processed"
