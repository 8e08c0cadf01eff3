"""Page facts: the overview and Feedback pages' aggregates, computed by a worker and stored for the pages to read."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from churnapp import hooks
from winback.models import PageFacts
from winback.selectors.page_facts import feedback_figures, overview_figures

# Set while a refresh is queued, so a burst of writes queues one refresh, not one each.
QUEUED_KEY = "winback:page-facts-refresh-queued"
QUEUED_SECONDS = 120


def page_facts_refresh(*, now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """Recompute and store both pages' figures (idempotent: a rerun replaces them)."""
    now = now or timezone.now()
    figures = {"overview": overview_figures(), "feedback": feedback_figures(now=now)}
    for key, data in figures.items():
        PageFacts.objects.update_or_create(key=key, defaults={"data": data, "computed_at": now})
    return dict.fromkeys(figures, now)


def page_facts_refresh_soon() -> None:
    """After a write the pages show: queue one refresh once the transaction commits (bursts share it)."""

    hooks.notify(hooks.WINBACK_PAGES_STALE, None)
