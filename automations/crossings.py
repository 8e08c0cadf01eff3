"""Time-based conditions fire at the moment their threshold is crossed, not when a scan of every account comes round.

"No login for 10 days" starts to hold for an account at `last_seen_at + 10 days`; "≥ 3 tickets in 7 days" stops
holding 7 days after a ticket; "renewal within 30 days" starts 30 days before `renewal_date`. Each such moment is a
stored time (an indexed column) moved by the condition's span, so the accounts whose moment falls between two ticks
are one range query per condition: `time ∈ (since − span, until − span]`. Every 15 seconds `crossings_evaluate`
takes the window since its last tick (kept in the database, so a stopped worker's window is taken up where it was
left), collects the accounts crossing any enabled rule's time-based condition in it, and evaluates the rules for
them only. A crossing account is only a candidate: the rule's whole condition decides, with the cooldown, dedupe
and holdout of every evaluation. Conditions that change only with the daily scores (`health_dropped`) follow the
nightly run, which announces every rescored account; the periodic full cycle (`evaluate_rules`) stays the
reconciler.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account, Subscription, SupportTicket, SurveyResponse, UsageEvent
from automations import rules
from automations.conditions import OPEN_TICKET
from automations.models import Checkpoint, Rule
from health.models import FeatureFirstUse

CHECKPOINT = "rule-crossings"
FIRST_WINDOW = dt.timedelta(minutes=1)  # the first tick looks this far back
LONGEST_WINDOW = dt.timedelta(days=2)  # a longer outage is left to the full cycle


@dataclass(frozen=True)
class Clock:
    """Rows whose `field`, moved by a span, is the moment a condition starts or stops holding for `account`."""

    rows: Callable[[dict], QuerySet]
    field: str
    account: str = "account_id"
    is_date: bool = False


def _days(spec: dict, key: str = "days", default: float = 0) -> dt.timedelta:
    value = spec.get(key, default)
    return dt.timedelta(days=float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0)


def _ticket_span(spec: dict) -> dt.timedelta:
    hours = spec.get("hours", 0) if isinstance(spec.get("hours", 0), int | float) else 0
    return dt.timedelta(hours=hours) + _days(spec)


def _survey(kind: str) -> Clock:
    return Clock(lambda spec: SurveyResponse.objects.filter(kind=kind), "responded_at")


RENEWAL = Clock(lambda spec: Account.objects.all(), "renewal_date", "pk", is_date=True)

# condition type → [(clock, span of the condition)]: a condition may start and stop at different moments.
CLOCKS: dict[str, list[tuple[Clock, Callable[[dict], dt.timedelta]]]] = {
    "inactive_days": [
        (Clock(lambda spec: Account.objects.all(), "last_seen_at", "pk"), _days),
        (Clock(lambda spec: Account.objects.filter(last_seen_at__isnull=True), "created_at", "pk"), _days),
    ],
    "ticket_open_longer": [
        (Clock(lambda spec: SupportTicket.objects.filter(status__in=OPEN_TICKET), "opened_at"), _ticket_span)
    ],
    "tickets_in_days": [(Clock(lambda spec: SupportTicket.objects.all(), "opened_at"), _days)],
    "nps_at_most": [(_survey("nps"), lambda spec: _days(spec, default=90))],
    "csat_at_most": [(_survey("csat"), lambda spec: _days(spec, default=90))],
    "payment_failed": [(Clock(lambda spec: Account.objects.all(), "payment_failed_at", "pk"), _days)],
    "renewal_within": [  # starts N days before the renewal date, stops the day after it
        (RENEWAL, lambda spec: -_days(spec)),
        (RENEWAL, lambda spec: dt.timedelta(days=1)),
    ],
    "no_expansion_days": [
        (Clock(lambda spec: Subscription.objects.all(), "start_date", is_date=True), _days),
        (Clock(lambda spec: _first_uses(), "first_day", is_date=True), _days),
    ],
    "purchase_within": [(Clock(lambda spec: Subscription.objects.all(), "start_date", is_date=True), _days)],
    "event_in_days": [
        (Clock(lambda spec: UsageEvent.objects.filter(event_type=spec.get("event_type", "")), "occurred_at"), _days)
    ],
}


def _first_uses() -> QuerySet:
    return FeatureFirstUse.objects.all()


def _leaves(tree: dict) -> Iterator[dict]:
    for group in ("all", "any"):
        for child in tree.get(group) or []:
            yield from _leaves(child)
    if isinstance(tree.get("not"), dict):
        yield from _leaves(tree["not"])
    if "type" in tree:
        yield tree


def crossing_accounts(*, since: dt.datetime, until: dt.datetime, rules: list[Rule] | None = None) -> set[int]:
    """Accounts for which a time-based condition of these rules (default: the enabled ones) starts or stops holding
    in (since, until]."""
    rules = rules if rules is not None else list(Rule.objects.filter(enabled=True))
    ids: set[int] = set()
    seen: set[tuple] = set()
    for rule in rules:
        for spec in _leaves(rule.conditions or {}):
            for clock, span_of in CLOCKS.get(spec.get("type"), []):
                span = span_of(spec)
                key = (spec.get("type"), spec.get("event_type"), clock.field, span)
                if key in seen:
                    continue
                seen.add(key)
                low, high = since - span, until - span
                if clock.is_date:
                    low, high = timezone.localdate(since) - span, timezone.localdate(until) - span
                    if low >= high:
                        continue  # the same day: a date-based condition changes only at midnight
                window = Q(**{f"{clock.field}__gt": low, f"{clock.field}__lte": high})
                ids.update(clock.rows(spec).filter(window).values_list(clock.account, flat=True).distinct())
    return ids


def crossings_evaluate(*, now: dt.datetime | None = None) -> dict[str, int]:
    """One tick: evaluate the rules for the accounts crossing a time-based threshold since the last tick."""
    now = now or timezone.now()
    start = Checkpoint.objects.get_or_create(name=CHECKPOINT, defaults={"at": now - FIRST_WINDOW})[0].at
    since = max(start, now - LONGEST_WINDOW)
    if since >= now:
        return {"accounts": 0}
    ids = crossing_accounts(since=since, until=now)
    result = rules.rules_cycle(account_ids=sorted(ids), now=now) if ids else {}
    # Moved on only once the rules ran: a crash leaves the window to the next tick (the rules are idempotent:
    # cooldown and dedupe), and of two ticks that overlap, the first to finish moves it.
    Checkpoint.objects.filter(name=CHECKPOINT, at=start).update(at=now)
    return {"accounts": len(ids), "window_s": round((now - since).total_seconds(), 1), **result}
