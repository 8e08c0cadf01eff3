"""Follow-up of dissatisfied answers: the route of each issue type and how many answers were followed up within
their SLA."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import SurveyResponse
from winback import conf
from winback.models import IssueRoute, IssueType
from winback.selectors.surveys import dissatisfied_q


def issue_routes() -> list[dict]:
    """Every issue type with its route (person, role, SLA days); unconfigured types go to the owner."""
    routes = {r.issue_type: r for r in IssueRoute.objects.select_related("assignee")}
    default_sla = conf.get("DETRACTOR_SLA_DAYS")
    rows = []
    for value, label in IssueType.choices:
        route = routes.get(value)
        rows.append(
            {
                "issue_type": value,
                "label": label,
                "assignee_id": route.assignee_id if route else None,
                "assignee": route.assignee if route else None,
                "role": route.role if route else "",
                "sla_days": route.sla_days if route else default_sla,
            }
        )
    return rows


def detractor_sla(*, start: dt.date | None = None, today: dt.date | None = None) -> dict:
    """Dissatisfied answers (NPS 0–6, CSAT 1–2) answered since `start` and their follow-up against the SLA.

    Routed answers are due on their follow-up's SLA date; an answer never routed (imported, or answered before
    routing existed) is due DETRACTOR_SLA_DAYS after it was given. within: followed up by the due date (or
    followed up without an SLA date); late: followed up after it; overdue: not followed up, past due; pending:
    not followed up, not due yet. overdue + pending = the open follow-ups of the period.
    """
    today = today or timezone.localdate()
    answers = SurveyResponse.objects.filter(dissatisfied_q())
    if start:
        answers = answers.filter(responded_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC))
    routed = answers.filter(follow_up__sla_due_on__isnull=False)
    unrouted = answers.exclude(follow_up__sla_due_on__isnull=False)
    followed = Q(follow_up__followed_up_at__isnull=False)
    in_time = followed & Q(follow_up__followed_up_at__date__lte=F("follow_up__sla_due_on"))
    default_cutoff = dt.datetime.combine(today - dt.timedelta(days=conf.get("DETRACTOR_SLA_DAYS")), dt.time(),
                                         tzinfo=dt.UTC)  # fmt: skip
    counts = routed.aggregate(
        total=Count("id"),
        within=Count("id", filter=in_time),
        followed=Count("id", filter=followed),
        overdue=Count("id", filter=~followed & Q(follow_up__sla_due_on__lt=today)),
    )
    loose = unrouted.aggregate(
        total=Count("id"),
        followed=Count("id", filter=followed),
        overdue=Count("id", filter=~followed & Q(responded_at__lt=default_cutoff)),
    )
    total = counts["total"] + loose["total"]
    within = counts["within"] + loose["followed"]
    late = counts["followed"] - counts["within"]
    overdue = counts["overdue"] + loose["overdue"]
    pending = total - within - late - overdue
    return {
        "total": total,
        "within_sla": within,
        "late": late,
        "overdue": overdue,
        "pending": pending,
        "open": overdue + pending,
        # Of the answers whose SLA is decided (followed up, or past due): how many were in time.
        "rate": round(100 * within / (within + late + overdue), 1) if within + late + overdue else None,
    }
