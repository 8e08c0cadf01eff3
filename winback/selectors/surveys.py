"""Survey answers and invitations: NPS over a period, dissatisfied answers and the open follow-ups, the feedback
list's pages, the invitation funnel, latest NPS per account, and whom to ask at an account."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from accounts import selectors as account_selectors
from accounts.models import Account, SurveyResponse
from winback.models import SurveyInvitation


def nps_summary(*, start: dt.datetime | None = None, end: dt.datetime | None = None) -> dict:
    """NPS over [start, end) per DESIGN.md: % promoters − % detractors, with the counts."""
    qs = SurveyResponse.objects.filter(kind="nps")
    if start:
        qs = qs.filter(responded_at__gte=start)
    if end:
        qs = qs.filter(responded_at__lt=end)
    agg = qs.aggregate(
        n=Count("id"), promoters=Count("id", filter=Q(score__gte=9)), detractors=Count("id", filter=Q(score__lte=6))
    )
    n = agg["n"]
    nps = round(100 * (agg["promoters"] - agg["detractors"]) / n, 1) if n else None
    return {**agg, "passives": n - agg["promoters"] - agg["detractors"], "nps": nps}


def dissatisfied_q(prefix: str = "") -> Q:
    """Answers that call for a follow-up: NPS detractors (0–6) and dissatisfied CSAT (1–2)."""
    return Q(**{f"{prefix}kind": "nps", f"{prefix}score__lte": 6}) | Q(
        **{f"{prefix}kind": "csat", f"{prefix}score__lte": 2}
    )


def _not_followed_up_q() -> Q:
    return Q(follow_up__isnull=True) | Q(follow_up__followed_up_at__isnull=True)


def open_follow_ups() -> QuerySet[SurveyResponse]:
    """Dissatisfied answers nobody has followed up yet, routed to a task or not: the "Open follow-ups" tab and
    the overdue/pending part of `detractor_sla` count exactly these."""
    return SurveyResponse.objects.filter(dissatisfied_q()).filter(_not_followed_up_q())


def _answers(category: str) -> QuerySet[SurveyResponse]:
    qs = SurveyResponse.objects.all()
    if category == "detractor":
        return qs.filter(kind="nps", score__lte=6)
    if category == "passive":
        return qs.filter(kind="nps", score__in=[7, 8])
    if category == "promoter":
        return qs.filter(kind="nps", score__gte=9)
    if category == "open":
        return open_follow_ups()
    return qs


def responses_page(
    *, category: str = "", since: dt.date | None = None, page: int | str | None = 1, per_page: int = 50
) -> Page:
    """One page of the answers (newest first) with what the feedback list shows, and the total count; filtered by
    NPS category or open follow-ups, and to the answers given since a day (the SLA card's window)."""
    answers = _answers(category)
    if since is not None:
        answers = answers.filter(responded_at__gte=dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC))
    ids = answers.order_by("-responded_at", "-id").values_list("pk", flat=True)
    current = Paginator(ids, per_page).get_page(page)
    # Pick the page first, then join: joining accounts, contacts and tasks before the LIMIT costs a scan of each.
    current.object_list = list(
        SurveyResponse.objects.filter(pk__in=list(current.object_list))
        .select_related("account", "account__owner", "contact", "follow_up", "follow_up__task__assignee")
        .prefetch_related("theme_links__theme")
        .order_by("-responded_at", "-id")
    )
    return current


def recent_responses(*, limit: int = 50, category: str = "") -> list[SurveyResponse]:
    """The latest answers with what the feedback list shows; filtered by NPS category or open follow-ups."""
    return list(responses_page(category=category, per_page=limit).object_list)


def survey_funnel(*, since: dt.datetime | None = None) -> dict:
    qs = SurveyInvitation.objects.all()
    if since:
        qs = qs.filter(created_at__gte=since)
    agg = qs.aggregate(
        invited=Count("id"),
        sent=Count("id", filter=Q(sent_at__isnull=False)),
        reminded=Count("id", filter=Q(reminded_at__isnull=False)),
        answered=Count("id", filter=Q(responded_at__isnull=False)),
    )
    agg["response_rate"] = round(100 * agg["answered"] / agg["sent"], 1) if agg["sent"] else None
    return agg


def latest_nps_by_account(*, account_ids: list[int] | None = None) -> dict[int, int]:
    """The most recent NPS score per account (for rules with NPS conditions): the accounts app's one definition."""
    return account_selectors.latest_survey_scores(kind="nps", account_ids=account_ids)


def survey_contact(*, account: Account):
    """Whom to ask at an account: the primary contact, else the first contact with an email; never unsubscribed."""
    return account.contacts.filter(unsubscribed=False).exclude(email="").order_by("-is_primary", "id").first()


def survey_invitation(*, token: str) -> SurveyInvitation | None:
    """The invitation behind a tokenised survey link, with its answer and account; None for an unknown token."""
    return SurveyInvitation.objects.select_related("response", "account").filter(token=token).first()


def survey_invitations() -> QuerySet[SurveyInvitation]:
    """Every invitation, newest first (the API's list)."""
    return SurveyInvitation.objects.order_by("-created_at", "-id")
