"""Celery tasks of the automations app: thin wrappers around services."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from automations import crossings, journeys, playbooks, rules
from churnapp.taskpolicy import ACKS_LATE, RETRY_ON_DATABASE

logger = logging.getLogger(__name__)


@shared_task(
    **RETRY_ON_DATABASE,
    soft_time_limit=240,
    time_limit=300,
)
def evaluate_rules() -> dict[str, int]:
    """Periodic: one evaluation cycle of every enabled rule, then their actions (idempotent, safe to re-run)."""
    return rules.rules_cycle()


@shared_task(**ACKS_LATE, soft_time_limit=50, time_limit=60)
def evaluate_rules_recent(minutes: int = 3) -> dict[str, int]:
    """Every minute: evaluate the rules for accounts with new facts (ticket, survey answer, payment, activity)."""
    ids = rules.accounts_with_new_facts(since=timezone.now() - dt.timedelta(minutes=minutes))
    if not ids:
        return {"accounts": 0}
    return {"accounts": len(ids), **rules.rules_cycle(account_ids=ids)}


@shared_task(**ACKS_LATE, soft_time_limit=50, time_limit=60)
def evaluate_crossings() -> dict[str, int]:
    """Every 15 seconds: the rules for the accounts whose time-based thresholds were crossed since the last tick."""
    return crossings.crossings_evaluate()


@shared_task(**ACKS_LATE, soft_time_limit=50, time_limit=60)
def evaluate_rules_for_accounts(account_ids: list[int]) -> dict[str, int]:
    """For other apps, right after new data: `transaction.on_commit(lambda: evaluate_rules_for_accounts.delay(ids))`."""
    return rules.rules_cycle(account_ids=account_ids)


FULL_CYCLE_FROM = 20_000  # accounts: past this many (a big import), one full cycle costs less than the id list


def rules_enqueue_for_accounts(account_ids: list[int]) -> None:
    """The `facts-changed` and `scores-changed` hooks (after commit): the rules evaluate these accounts now — at
    once for a new ticket, answer or payment, and again once they are rescored. With the broker down the next
    cycle (`evaluate_rules`) evaluates them."""
    try:
        if len(account_ids) > FULL_CYCLE_FROM:
            evaluate_rules.delay()
        else:
            evaluate_rules_for_accounts.delay(list(account_ids))
    except BrokerError:
        logger.warning("Broker unreachable: %d rescored accounts wait for the next rule cycle.", len(account_ids))


@shared_task(**RETRY_ON_DATABASE)
def advance_playbooks() -> int:
    """Periodic: run the due steps of active playbook enrolments."""
    return playbooks.enrolments_advance_due()


@shared_task(**ACKS_LATE, soft_time_limit=60, time_limit=90)
def advance_enrolment(enrolment_id: int) -> str:
    """Right after enrolment: run its first steps (the periodic sweep catches anything this misses)."""
    return playbooks.advance_one(enrolment_id=enrolment_id)


@shared_task(**ACKS_LATE, soft_time_limit=120, time_limit=150)
def advance_enrolments(enrolment_ids: list[int]) -> dict[str, int]:
    """Right after a bulk enrolment: run the first steps of these enrolments together, set-based."""
    statuses = playbooks.advance_many(enrolment_ids=enrolment_ids)
    return {"advanced": len(statuses)}


def enrolments_enqueue(enrolment_ids: list[int]) -> None:
    """The `ENROLMENTS_DUE` hook (after commit): one enrolment alone, many in chunks advanced set-based."""
    if len(enrolment_ids) == 1:
        advance_enrolment.delay(enrolment_ids[0])
        return
    for i in range(0, len(enrolment_ids), playbooks.ADVANCE_CHUNK):
        advance_enrolments.delay(enrolment_ids[i : i + playbooks.ADVANCE_CHUNK])


@shared_task(**RETRY_ON_DATABASE)
def refresh_journeys() -> dict[str, int]:
    """Periodic: apply journeys to new accounts, mark reached and missed milestones, move stages."""
    return journeys.journeys_refresh()
