"""Follow-up of survey answers: routing an answer (a task for whom its issue type routes to, within the SLA, or
the promoter's tag and review ask), the routes managers configure, overdue reminders and closing the loop."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from accounts import services as account_services
from accounts.models import Account, SurveyResponse, TaskPriority, TaskSource, TaskStatus
from churnapp.roles import can_configure, can_edit_account
from messaging.notifications import notify_many
from winback import conf, emailing, textmining, texts
from winback.models import IssueRoute, IssueType, ResponseFollowUp, Theme
from winback.services.page_figures import page_facts_refresh_soon

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


_CATEGORIES = {
    "detractor": gettext_noop("Detractor"),
    "passive": gettext_noop("Passive"),
    "dissatisfied": gettext_noop("Dissatisfied"),
    "neutral": gettext_noop("Neutral"),
}


def _answer_text(response: SurveyResponse) -> str:
    """The answer as a title ("Detractor: NPS 3 from Dana Reyes") in the active language."""
    return gettext("%(category)s: %(kind)s %(score)s from %(who)s") % {
        "category": gettext(_CATEGORIES[response.category]),
        "kind": response.get_kind_display(),
        "score": response.score,
        "who": str(response.contact) if response.contact else gettext("a contact"),
    }


def _task_texts(response: SurveyResponse, issue_type: str) -> tuple[str, str]:
    """The follow-up task's title and description, in the installation's language (stored for the team, whatever
    the language of the request that routes the answer)."""
    with translation.override(settings.LANGUAGE_CODE):
        names = {"answer": _answer_text(response)}
        if response.category in ("detractor", "dissatisfied"):
            names["issue"] = str(dict(IssueType.choices).get(issue_type, issue_type)).lower()
            title = gettext("%(answer)s (%(issue)s): call back") if issue_type else gettext("%(answer)s: call back")
        else:
            title = gettext("%(answer)s: ask what would make it a 10")
        description = f"“{response.comment}”" if response.comment else gettext("No comment left.")
        return title % names, description


def _issue_type_of(response: SurveyResponse, asked: str) -> tuple[str, str]:
    """(issue type, how it is known): as the contact chose it, else from the first theme its comment mentions."""
    if asked:
        return asked, "asked"
    if response.comment:
        for theme in Theme.objects.exclude(issue_type="").exclude(keywords="").order_by("name"):
            if textmining.keyword_matches(response.comment, theme.keyword_list):
                return theme.issue_type, "theme"
    return "", ""


def _issue_route(*, issue_type: str, account: Account) -> tuple[AbstractBaseUser | None, int]:
    """Who follows up a dissatisfied answer of this issue type and in how many days (the SLA)."""
    route = IssueRoute.objects.select_related("assignee").filter(issue_type=issue_type).first() if issue_type else None
    if route is None:
        return account.owner, conf.get("DETRACTOR_SLA_DAYS")
    if route.assignee is not None and route.assignee.is_active:
        return route.assignee, route.sla_days
    if route.role:
        member = (
            get_user_model()
            .objects.filter(is_active=True, groups__name=route.role)
            .annotate(n_open=Count("tasks", filter=Q(tasks__status=TaskStatus.OPEN)))
            .order_by("n_open", "pk")
            .first()
        )
        if member is not None:
            return member, route.sla_days
    return account.owner, route.sla_days


@transaction.atomic
def response_route(*, response: SurveyResponse, issue_type: str = "", today: dt.date | None = None) -> ResponseFollowUp:
    """Route an answer once: detractor → high-priority task due within the SLA, for whom its issue type routes to
    (the owner by default); passive → CSM task; promoter → advocacy tag and, when configured, a review/referral
    ask. CSAT 1–2 and 3 route like detractor and passive."""
    existing = ResponseFollowUp.objects.filter(response=response).first()
    if existing is not None:
        return existing
    today = today or timezone.localdate()
    account = response.account
    category = response.category
    follow_up = ResponseFollowUp(response=response, category=category)
    if category in ("detractor", "dissatisfied"):
        follow_up.issue_type, follow_up.issue_type_source = _issue_type_of(response, issue_type)
        assignee, sla_days = _issue_route(issue_type=follow_up.issue_type, account=account)
        follow_up.sla_due_on = today + dt.timedelta(days=sla_days)
        title, description = _task_texts(response, follow_up.issue_type)
        follow_up.task = account_services.task_create(
            account=account,
            title=title,
            description=description,
            created_by=None,
            assignee=assignee,
            due_date=follow_up.sla_due_on,
            priority=TaskPriority.HIGH,
            source=TaskSource.SURVEY,
        )
    elif category in ("passive", "neutral"):
        title, description = _task_texts(response, "")
        follow_up.task = account_services.task_create(
            account=account,
            title=title,
            description=description,
            created_by=None,
            due_date=today + dt.timedelta(days=conf.get("PASSIVE_DUE_DAYS")),
            priority=TaskPriority.NORMAL,
            source=TaskSource.SURVEY,
        )
    elif category == "promoter":
        account_services.account_add_tag(account=account, name=conf.get("PROMOTER_TAG"))
        review_url = conf.get("REVIEW_URL")
        if review_url and response.contact and response.contact.email:
            transaction.on_commit(
                lambda: emailing.send_template(
                    template_key=texts.REVIEW_TEMPLATE,
                    contact=response.contact,
                    account=account,
                    source="survey",
                    dedupe_key=f"survey-review:{response.pk}",
                    extra={"review": {"url": review_url}},
                )
            )
    follow_up.save()
    return follow_up


def issue_route_set(
    *, issue_type: str, assignee: AbstractBaseUser | None, role: str, sla_days: int, actor: AbstractBaseUser | None
) -> IssueRoute:
    """Configure who follows up dissatisfied answers of an issue type and the SLA (managers and admins; `actor=None`
    is the system: an API key whose scope was checked, a command)."""
    if actor is not None and not can_configure(actor):
        raise PermissionDenied(gettext("Only managers and admins configure routing."))
    if issue_type not in IssueType.values:
        raise ValueError(gettext("Unknown issue type %(issue_type)r.") % {"issue_type": issue_type})
    if not 1 <= sla_days <= 30:
        raise ValueError(gettext("The SLA is 1 to 30 days."))
    route, _ = IssueRoute.objects.update_or_create(
        issue_type=issue_type, defaults={"assignee": assignee, "role": role, "sla_days": sla_days}
    )
    return route


def follow_ups_remind_overdue(*, today: dt.date | None = None) -> int:
    """One reminder per dissatisfied answer whose follow-up is past its SLA date and still open: a notification
    (in the app and by email) to the task's assignee and the account owner. Returns how many were reminded."""
    today = today or timezone.localdate()
    due = ResponseFollowUp.objects.filter(
        sla_due_on__lt=today,
        followed_up_at__isnull=True,
        overdue_reminded_at__isnull=True,
        task__status=TaskStatus.OPEN,
    )
    ids = list(due.values_list("pk", flat=True)[:5000])
    # Claim first, so a second worker or a retry reminds nobody twice.
    ResponseFollowUp.objects.filter(pk__in=ids, overdue_reminded_at__isnull=True).update(
        overdue_reminded_at=timezone.now()
    )
    rows = ResponseFollowUp.objects.filter(pk__in=ids).select_related(
        "task__assignee", "response__account__owner", "response__contact"
    )
    items = []
    for follow_up in rows:
        account = follow_up.response.account
        users = {u.pk: u for u in (follow_up.task.assignee, account.owner) if u is not None}
        late = (today - follow_up.sla_due_on).days
        items.append(
            {
                "users": list(users.values()),
                "title": f"Overdue: {follow_up.task.title}",
                "body": f"Due {follow_up.sla_due_on:%Y-%m-%d} ({late} day{'s' if late != 1 else ''} late).",
                "url": settings.SITE_URL.rstrip("/") + reverse("account-detail", args=[account.pk]),
                "account": account,
                "dedupe_key": f"follow-up-overdue:{follow_up.pk}",
            }
        )
    notify_many(items=items, email=True, label="Overdue survey follow-ups")
    return len(items)


def responses_route_new(*, now: dt.datetime | None = None) -> int:
    """Route answers that came in another way (import, API, survey tool) and are recent enough to act on."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=conf.get("ROUTE_MAX_AGE_DAYS"))
    fresh = SurveyResponse.objects.filter(responded_at__gte=since, follow_up__isnull=True).select_related(
        "account", "account__owner", "contact"
    )
    routed = 0
    for response in fresh:
        response_route(response=response)
        routed += 1
    return routed


@transaction.atomic
def response_follow_up(*, response: SurveyResponse, actor: AbstractBaseUser, note: str) -> ResponseFollowUp:
    """Close the loop with one customer: the answer is followed up (with a note) and its task done."""
    if not can_edit_account(actor, response.account):
        raise PermissionDenied(gettext("You can only follow up answers of the accounts you own."))
    follow_up, _ = ResponseFollowUp.objects.get_or_create(response=response, defaults={"category": response.category})
    if follow_up.followed_up_at is None:
        follow_up.followed_up_at = timezone.now()
        follow_up.followed_up_by = actor
    follow_up.note = note.strip()
    follow_up.save(update_fields=["followed_up_at", "followed_up_by", "note"])
    if follow_up.task_id:
        account_services.task_complete(task=follow_up.task, actor=actor, outcome=note.strip())
    with translation.override(settings.LANGUAGE_CODE):  # stored for the team, not the request's
        subject = gettext("Followed up %(kind)s %(score)s") % {
            "kind": response.get_kind_display(),
            "score": response.score,
        }
    account_services.activity_create(
        account=response.account,
        author=actor,
        subject=subject,
        body=note.strip(),
    )
    page_facts_refresh_soon()
    return follow_up
