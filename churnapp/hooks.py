"""Hooks: how a lower app tells the upper apps that something happened — facts changed (health rescores), a
domain event occurred (messaging delivers it to webhook subscribers), rows were queued for sending (messaging's
tasks send them) — without importing them and without looking up a task by name at run time.

An upper app registers its hooks in `AppConfig.ready()`; the lower app calls `notify(name, payload)` inside its
write transaction. A hook registered `in_transaction` runs at once, inside that transaction (it records what is
now stale, so the record commits or rolls back with the facts); the others run once the transaction commits
(typically they enqueue a Celery task, which may be lost with the broker: the record is what a sweep finds). The
hooks every deployment needs are listed in `EXPECTED`: a system check (run by `manage.py check`, `migrate`,
`runserver` and at worker start) fails when one is missing, so a process can never ingest silently without
refreshing what is derived from it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core import checks
from django.db import transaction

logger = logging.getLogger(__name__)

EVENTS_INGESTED = "events-ingested"  # payload: sorted [[account_id, "YYYY-MM-DD"], …] of the touched days
# A fact that feeds the health score changed (ticket, survey answer, subscription, attribute, usage rollup).
FACTS_CHANGED = "facts-changed"  # payload: sorted account ids
# Only usage changed (the rollup refresh): rescored after the other facts.
USAGE_CHANGED = "usage-changed"  # payload: sorted account ids
SCORES_CHANGED = "scores-changed"  # payload: sorted ids of the accounts just rescored

# Domain events, announced in the writer's transaction; payload: a list of event payloads (plain dicts), as
# outgoing webhooks carry them. `wanted(name)` tells the writer whether anyone listens before it builds them.
ACCOUNT_STATUS_CHANGED = "account.status_changed"
ACCOUNT_HEALTH_BAND_CHANGED = "account.health_band_changed"
TASK_CREATED = "task.created"
CHURN_RECORDED = "churn.recorded"
IMPORT_FINISHED = "import.finished"
DOMAIN_EVENTS = (ACCOUNT_STATUS_CHANGED, ACCOUNT_HEALTH_BAND_CHANGED, TASK_CREATED, CHURN_RECORDED, IMPORT_FINISHED)

# Rows queued for sending by messaging's services; its tasks send them after commit. Payload: row ids (texts).
EMAILS_QUEUED = "emails-queued"
WEBHOOKS_QUEUED = "webhooks-queued"
SLACK_QUEUED = "slack-queued"
# Playbook enrolments with a step due now; automations' tasks advance them after commit. Payload: enrolment ids.
ENROLMENTS_DUE = "enrolments-due"
# Work an app's services queue for its own workers (services never import tasks; the app registers the task).
HEALTH_PROFILE_PUBLISHED = "health-profile-published"  # payload: the version id; every account is rescored
CHURN_LAB_REQUESTED = "churn-lab-requested"  # payload: the lab run id
WINBACK_PAGES_STALE = "winback-pages-stale"  # payload: None; the win-back pages' figures are refreshed
IMPORT_QUEUED = "import-queued"  # payload: the import job id
BULK_EDIT_QUEUED = "bulk-edit-queued"  # payload: the bulk edit id
# A rate of a currency some subscriptions are priced in changed: cached MRR and the KPI facts are recomputed at it.
EXCHANGE_RATES_CHANGED = "exchange-rates-changed"  # payload: the currency code
# Accounts or contacts were written: what waited for them (tracking messages, unmatched tickets, Stripe events) is
# replayed in the same transaction. Payload: {"kind", "rows", "created", "objects"} (see accounts.imports.replays).
ACCOUNTS_UPSERTED = "accounts-upserted"

# Hook name → the app expected to register it (for the start-up check's message).
EXPECTED: dict[str, str] = {
    EVENTS_INGESTED: "health",
    FACTS_CHANGED: "health",
    USAGE_CHANGED: "health",
    SCORES_CHANGED: "automations",
    **dict.fromkeys(DOMAIN_EVENTS, "messaging"),
    EMAILS_QUEUED: "messaging",
    WEBHOOKS_QUEUED: "messaging",
    SLACK_QUEUED: "messaging",
    ENROLMENTS_DUE: "automations",
    HEALTH_PROFILE_PUBLISHED: "health",
    CHURN_LAB_REQUESTED: "health",
    WINBACK_PAGES_STALE: "winback",
    IMPORT_QUEUED: "accounts",
    BULK_EDIT_QUEUED: "accounts",
    EXCHANGE_RATES_CHANGED: "dashboards",
    ACCOUNTS_UPSERTED: "accounts",
}

_hooks: dict[str, list[Callable[[Any], None]]] = {}
_in_transaction: set[Callable[[Any], None]] = set()
_wants: dict[Callable[[Any], None], Callable[[], bool]] = {}


def register(
    name: str,
    fn: Callable[[Any], None],
    *,
    in_transaction: bool = False,
    wants: Callable[[], bool] | None = None,
) -> None:
    """Register `fn(payload)` to run after the commit of every transaction that notifies `name`, or inside it
    with `in_transaction` (idempotent). `wants()` says whether the hook has anything to do right now (e.g. a
    webhook endpoint subscribes to the event), so writers can skip building payloads nobody receives."""
    hooks = _hooks.setdefault(name, [])
    if fn not in hooks:
        hooks.append(fn)
    if in_transaction:
        _in_transaction.add(fn)
    if wants is not None:
        _wants[fn] = wants


def wanted(name: str) -> bool:
    """Whether any hook of `name` would act on a notification now."""
    return any(fn not in _wants or _wants[fn]() for fn in _hooks.get(name, []))


def registered(name: str) -> list[Callable[[Any], None]]:
    return list(_hooks.get(name, []))


def notify(name: str, payload: Any) -> None:
    """Run the hooks of `name` with `payload`: the in-transaction ones now, the others once the current
    transaction commits (at once outside one)."""
    hooks = _hooks.get(name)
    if not hooks:
        # The start-up check makes this unreachable in a configured process; never lose the signal silently.
        logger.error("No derived-state hook registered for %r: derived state will be stale.", name)
        return
    for fn in hooks:
        if fn in _in_transaction:
            fn(payload)
        else:
            transaction.on_commit(lambda fn=fn: fn(payload))


@checks.register()
def check_hooks(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"No derived-state hook registered for {name!r}.",
            hint=f"The {app} app registers it in its AppConfig.ready(); is it in INSTALLED_APPS?",
            id="churnapp.E001",
        )
        for name, app in EXPECTED.items()
        if not _hooks.get(name)
    ]
