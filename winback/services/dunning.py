"""Involuntary churn: a failed payment opens a dunning case whose reminders stop when a payment succeeds."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, Contact
from winback import conf, emailing, selectors, texts
from winback.models import CardExpiryReminder, DunningCase, DunningStatus, DunningStep


def _primary_contacts(account_ids: list[int]) -> dict[int, Contact]:
    chosen: dict[int, Contact] = {}
    for c in Contact.objects.filter(account_id__in=account_ids).exclude(email="").order_by("-is_primary", "id"):
        chosen.setdefault(c.account_id, c)
    return chosen


def dunning_open_cases(*, since: dt.datetime, now: dt.datetime | None = None) -> int:
    """Open a case for each account whose payment failed since `since` and has no open case (idempotent)."""
    now = now or timezone.now()
    by_account: dict[int, list[dt.datetime]] = {}
    for account_id, at in selectors.payment_failures(since=since, until=now):
        by_account.setdefault(account_id, []).append(at)
    if not by_account:
        return 0
    cases = DunningCase.objects.filter(account_id__in=list(by_account))
    open_accounts = set(cases.filter(status=DunningStatus.OPEN).values_list("account_id", flat=True))
    # Failures already handled by a closed case do not reopen one: only those after its recovery count (and an
    # exhausted sequence is not restarted for a month).
    cutoff: dict[int, dt.datetime] = {}
    for account_id, status, failed_at, recovered_at, last_step_at in cases.exclude(
        status=DunningStatus.OPEN
    ).values_list("account_id", "status", "failed_at", "recovered_at", "last_step_at"):
        if status == DunningStatus.RECOVERED:
            end = recovered_at or failed_at
        else:
            end = (last_step_at or failed_at) + dt.timedelta(days=30)
        cutoff[account_id] = max(end, cutoff.get(account_id, end))
    first_failure = {}
    for account_id, times in by_account.items():
        later = [t for t in times if account_id not in cutoff or t > cutoff[account_id]]
        if later and account_id not in open_accounts:
            first_failure[account_id] = min(later)
    opened = 0
    for account_id, failed_at in first_failure.items():
        try:
            with transaction.atomic():
                DunningCase.objects.create(account_id=account_id, failed_at=failed_at)
            opened += 1
        except IntegrityError:
            continue  # opened concurrently
    return opened


def dunning_recover(*, now: dt.datetime | None = None) -> int:
    """Close open cases whose account has paid since the failure: the sequence stops."""
    now = now or timezone.now()
    cases = list(DunningCase.objects.filter(status=DunningStatus.OPEN))
    if not cases:
        return 0
    earliest = min(c.failed_at for c in cases)
    paid: dict[int, dt.datetime] = {}
    for account_id, at in selectors.payment_recoveries(since=earliest, until=now):
        paid.setdefault(account_id, at)
        paid[account_id] = max(at, paid[account_id])
    recovered = 0
    for case in cases:
        at = paid.get(case.account_id)
        if at is not None and at > case.failed_at:
            updated = DunningCase.objects.filter(pk=case.pk, status=DunningStatus.OPEN).update(
                status=DunningStatus.RECOVERED, recovered_at=at
            )
            recovered += updated
    return recovered


def dunning_send_due(*, now: dt.datetime | None = None) -> int:
    """Send each open case's reminders that fell due (with the card-update link); exhausted after the last one."""
    now = now or timezone.now()
    steps = list(conf.get("DUNNING_STEP_DAYS"))
    cases = list(DunningCase.objects.filter(status=DunningStatus.OPEN).select_related("account", "account__owner"))
    contacts = _primary_contacts([c.account_id for c in cases])
    sent = 0
    for case in cases:
        due = [
            n
            for n, days in enumerate(steps, start=1)
            if n > case.steps_sent and case.failed_at + dt.timedelta(days=days) <= now
        ]
        if due:
            # Catching up (a new case found late, a missed run): only the latest due reminder goes out.
            number = due[-1]
            contact = contacts.get(case.account_id)
            try:
                with transaction.atomic():
                    step = DunningStep.objects.create(case=case, step=number, sent_at=now)
                    claimed = DunningCase.objects.filter(pk=case.pk, steps_sent=case.steps_sent).update(
                        steps_sent=number, last_step_at=now
                    )
                    if claimed != 1:
                        raise IntegrityError("another worker sent this step")
                    case.steps_sent, case.last_step_at = number, now
            except IntegrityError:
                continue
            if contact is not None:
                result = emailing.send_template(
                    template_key=texts.DUNNING_TEMPLATE,
                    contact=contact,
                    account=case.account,
                    source="dunning",
                    dedupe_key=f"dunning:{case.pk}:{number}",
                    extra={
                        "dunning": {"step": number, "steps": len(steps), "card_update_url": conf.get("CARD_UPDATE_URL")}
                    },
                    # Payment mail is transactional: the marketing frequency cap does not hold it back.
                    respect_frequency_cap=False,
                )
                step.status, step.email_message_id = result.status, result.message_id
            else:
                step.status = "no contact"
            step.save(update_fields=["status", "email_message_id"])
            sent += 1
        if case.steps_sent >= len(steps) and case.failed_at + dt.timedelta(days=steps[-1] + 7) <= now:
            DunningCase.objects.filter(pk=case.pk, status=DunningStatus.OPEN).update(status=DunningStatus.EXHAUSTED)
    return sent


def card_expiry_reminders_send(*, now: dt.datetime | None = None) -> int:
    """One reminder per card-expiring billing fact, before the card expires."""
    now = now or timezone.now()
    rows = selectors.cards_expiring(since=now - dt.timedelta(days=conf.get("CARD_EXPIRY_NOTICE_DAYS")))
    done = set(
        CardExpiryReminder.objects.filter(source_key__in=[k for k, *_ in rows]).values_list("source_key", flat=True)
    )
    todo = [row for row in rows if row[0] not in done]
    contacts = _primary_contacts([a for _, a, _ in todo])
    accounts = Account.objects.select_related("owner").in_bulk([a for _, a, _ in todo])
    sent = 0
    for key, account_id, expires_on in todo:
        contact = contacts.get(account_id)
        try:
            reminder = CardExpiryReminder.objects.create(account_id=account_id, source_key=key, sent_at=now)
        except IntegrityError:
            continue
        if contact is None:
            reminder.status = "no contact"
        else:
            result = emailing.send_template(
                template_key=texts.CARD_EXPIRY_TEMPLATE,
                contact=contact,
                account=accounts[account_id],
                source="dunning",
                dedupe_key=f"card-expiry:{key}",
                extra={"card": {"expires_on": expires_on or "", "update_url": conf.get("CARD_UPDATE_URL")}},
                respect_frequency_cap=False,
            )
            reminder.status = result.status
        reminder.save(update_fields=["status"])
        sent += 1
    return sent


def dunning_run(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic dunning pass: open cases for new failures, stop recovered ones, send what is due."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=max(conf.get("DUNNING_STEP_DAYS")) + 14)
    return {
        "opened": dunning_open_cases(since=since, now=now),
        "recovered": dunning_recover(now=now),
        "reminders": dunning_send_due(now=now),
        "card_expiry": card_expiry_reminders_send(now=now),
    }
