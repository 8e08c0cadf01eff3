"""Win-back pages: overview (grid, KPIs, campaigns), feedback (NPS, follow-up, themes), the cancel form, the
Customer 360 card, and the public survey pages. Thin: selectors read, services write."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Account, SurveyResponse
from churnapp.editing import errors_text
from churnapp.redirects import redirect_next
from churnapp.roles import can_configure, can_edit_account, require_configure
from winback import forms, selectors, services
from winback.models import Campaign, IssueType, Theme, ThemeCluster
from winback.services.surveys import SurveyTokenError
from winback.tasks import cluster_comments

CLOSED_STATUS = {"unknown": 404, "used": 410, "expired": 410}


def _account(pk: int) -> Account:
    return get_object_or_404(Account.objects.select_related("owner"), pk=pk)


def _facts(read) -> dict:
    """The page's stored figures; on a fresh install (no refresh yet) they are computed once, here."""
    facts = read()
    if facts is None:
        services.page_facts_refresh()
        facts = read()
    return facts


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    context = {
        **_facts(selectors.overview_facts),
        "records": selectors.churn_records().order_by("-churned_on", "-id")[:25],
        "can_configure": can_configure(request.user),
        "campaign_form": forms.CampaignForm(),
        "release_form": forms.ReleaseNoteForm(),
    }
    return render(request, "winback/overview.html", context)


def _route_forms(bound: forms.IssueRouteForm | None = None) -> list[dict]:
    rows = []
    for row in selectors.issue_routes():
        if bound is not None and bound.data.get("issue_type") == row["issue_type"]:
            form = bound
        else:
            form = forms.IssueRouteForm(
                row_key=row["issue_type"],
                initial={
                    "issue_type": row["issue_type"],
                    "assignee": row["assignee_id"],
                    "role": row["role"],
                    "sla_days": row["sla_days"],
                },
            )
        rows.append({**row, "form": form})
    return rows


@require_GET
def feedback(request: HttpRequest) -> HttpResponse:
    return _feedback_page(request)


def _since(value: str) -> dt.date | None:
    """?since=YYYY-MM-DD narrows the answers to the SLA card's window; anything else means all time."""
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def _feedback_page(
    request: HttpRequest, *, route_form: forms.IssueRouteForm | None = None, status: int = 200
) -> HttpResponse:
    category = request.GET.get("category", "")
    since = _since(request.GET.get("since", ""))
    run = selectors.latest_cluster_run()
    configure = can_configure(request.user)
    context = {
        **_facts(selectors.feedback_facts),
        "responses_page": (
            answers := selectors.responses_page(category=category, since=since, page=request.GET.get("page"))
        ),
        "since": since,
        "responses": answers.object_list,
        "category": category,
        "run": run,
        "clusters": selectors.cluster_examples(run) if run else [],
        "can_configure": configure,
        "follow_up_form": forms.FollowUpForm(),
        "loop_form": forms.LoopMessageForm(),
        "routes": _route_forms(route_form) if configure else [],
        # A form that names no known issue type has no row to show its errors in.
        "route_errors": route_form.errors
        if route_form is not None and route_form.data.get("issue_type") not in IssueType.values
        else None,
    }
    return render(request, "winback/feedback.html", context, status=status)


@require_POST
def issue_route_save(request: HttpRequest) -> HttpResponse:
    """Who follows up dissatisfied answers of one issue type, and within how many days (managers)."""
    require_configure(request.user)
    form = forms.IssueRouteForm(request.POST)
    if not form.is_valid():
        return _feedback_page(request, route_form=form, status=400)
    data = form.cleaned_data
    route = services.issue_route_set(
        issue_type=data["issue_type"],
        assignee=data["assignee"],
        role=data["role"],
        sla_days=data["sla_days"],
        actor=request.user,
    )
    messages.success(
        request,
        _("Dissatisfied answers about %(issue)s: %(route)s.")
        % {"issue": route.get_issue_type_display().lower(), "route": route},
    )
    return redirect(reverse("winback:feedback") + "#routing")


@require_http_methods(["GET", "POST"])
def account_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    if not can_edit_account(request.user, account):
        raise PermissionDenied(_("You can only cancel the accounts you own."))
    form = forms.CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.account_cancel(
            account=account,
            reason_code=data["reason"],
            churn_type=data["churn_type"],
            competitor=data["competitor"],
            comment=data["comment"],
            effective_on=data["effective_on"],
            actor=request.user,
        )
        messages.success(request, _("%(name)s is cancelled; the reason is recorded.") % {"name": account.name})
        return redirect("account-detail", pk=account.pk)
    context = {"account": account, "form": form, "pause_form": forms.PauseForm(prefix="pause")}
    return render(request, "winback/cancel.html", context)


@require_POST
def account_pause(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause instead of cancel, from the cancel page."""
    account = _account(pk)
    if not can_edit_account(request.user, account):
        raise PermissionDenied(_("You can only pause the accounts you own."))
    form = forms.PauseForm(request.POST, prefix="pause")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.account_pause(
                account=account,
                start_on=data["start_on"],
                resume_on=data["resume_on"],
                reason_code=data["reason"],
                comment=data["comment"],
                actor=request.user,
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("%(name)s is paused until %(date)s; it is not churn.")
                % {"name": account.name, "date": f"{data['resume_on']:%Y-%m-%d}"},
            )
            return redirect("account-detail", pk=account.pk)
    context = {"account": account, "form": forms.CancelForm(), "pause_form": form}
    return render(request, "winback/cancel.html", context, status=400)


@require_GET
def account_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The Customer 360 section: departures, reactivation, dunning, suppression, recent answers."""
    account = _account(pk)
    context = {"account": account, "can_edit": can_edit_account(request.user, account)}
    context.update(selectors.account_winback_state(account=account))
    return render(request, "winback/account_card.html", context)


@require_POST
def account_suppress(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    form = forms.SuppressForm(request.POST)
    form.is_valid()
    services.suppression_add(account=account, reason=form.cleaned_data.get("reason", ""), actor=request.user)
    messages.success(request, _("%(name)s will not be contacted by win-back campaigns.") % {"name": account.name})
    return redirect("account-detail", pk=account.pk)


@require_POST
def account_survey(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner asks the account's primary contact for an NPS answer now (fatigue limit and caps apply)."""
    account = _account(pk)
    if not can_edit_account(request.user, account):
        raise PermissionDenied(_("You can only survey the accounts you own."))
    contact = selectors.survey_contact(account=account)
    invitation = services.survey_invite(contact=contact, kind="nps") if contact else None
    if contact is None:
        messages.error(request, _("No contact with an email address to ask."))
    elif invitation is None:
        messages.info(
            request, _("%(contact)s was surveyed in the last 90 days; not asked again.") % {"contact": contact}
        )
    elif invitation.email_status == "suppressed":
        messages.warning(
            request,
            _("The survey to %(contact)s was suppressed (unsubscribed or frequency cap).") % {"contact": contact},
        )
    else:
        messages.success(request, _("NPS survey sent to %(contact)s.") % {"contact": contact})
    return redirect("account-detail", pk=account.pk)


@require_POST
def response_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    response = get_object_or_404(SurveyResponse.objects.select_related("account"), pk=pk)
    form = forms.FollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write what you did to follow up."))
    else:
        services.response_follow_up(response=response, actor=request.user, note=form.cleaned_data["note"])
        messages.success(request, _("Marked as followed up."))
    return redirect_next(request, "winback:feedback")


@require_POST
def cluster_name(request: HttpRequest, pk: int) -> HttpResponse:
    require_configure(request.user)
    cluster = get_object_or_404(ThemeCluster, pk=pk)
    form = forms.ClusterNameForm(request.POST)
    if form.is_valid():
        theme = services.cluster_name(cluster=cluster, name=form.cleaned_data["name"], actor=request.user)
        messages.success(request, _("Cluster named “%(name)s”; its comments are tagged.") % {"name": theme.name})
    else:
        messages.error(request, _("Give the theme a name."))
    return redirect("winback:feedback")


@require_POST
def themes_recluster(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)

    transaction.on_commit(lambda: cluster_comments.delay())
    messages.success(request, _("Clustering the untagged comments; refresh in a moment."))
    return redirect("winback:feedback")


@require_POST
def theme_loop(request: HttpRequest, pk: int) -> HttpResponse:
    require_configure(request.user)
    theme = get_object_or_404(Theme, pk=pk)
    form = forms.LoopMessageForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        since = dt.datetime.combine(data["since"], dt.time.min, tzinfo=dt.UTC) if data["since"] else None
        message = services.loop_message_send(
            theme=theme, actor=request.user, subject=data["subject"], body=data["body"], since=since
        )
        messages.success(
            request,
            _("Sent to %(recipients)s respondent(s) of “%(theme)s” (%(suppressed)s suppressed).")
            % {"recipients": message.recipients, "theme": theme.name, "suppressed": message.suppressed},
        )
    else:
        messages.error(request, _("The message needs a subject and a body."))
    return redirect("winback:feedback")


@require_POST
def campaign_create(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    form = forms.CampaignForm(request.POST)
    if not form.is_valid():
        messages.error(request, errors_text(form.errors))
        return redirect("winback:overview")
    data = form.cleaned_data
    campaign = services.campaign_create(
        name=data["name"],
        offer=data["offer"],
        reason_codes=data["reasons"],
        value_bands=data["value_bands"],
        discount_code=data["discount_code"],
        subject=data["subject"],
        body=data["body"],
        attribution_window_days=data["attribution_window_days"],
    )
    enrolled = services.campaign_enroll(campaign=campaign)
    messages.success(
        request,
        _("Campaign “%(name)s” created with %(enrolled)s churned account(s) enrolled.")
        % {"name": campaign.name, "enrolled": enrolled},
    )
    return redirect("winback:campaign-detail", pk=campaign.pk)


@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.prefetch_related("reasons"), pk=pk)
    [kpis] = selectors.campaign_kpis(campaign_ids=[campaign.pk])
    context = {
        "campaign": campaign,
        "kpis": kpis,
        "enrollments": campaign.enrollments.select_related("account", "churn_record__reason").order_by("status")[:200],
        "can_configure": can_configure(request.user),
    }
    return render(request, "winback/campaign_detail.html", context)


@require_POST
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    require_configure(request.user)
    campaign = get_object_or_404(Campaign, pk=pk)
    counts = services.campaign_send(campaign=campaign)
    messages.success(request, _("Sent %(sent)s, suppressed %(suppressed)s, no contact %(no_contact)s.") % counts)
    return redirect("winback:campaign-detail", pk=pk)


@require_POST
def release_note_create(request: HttpRequest) -> HttpResponse:
    require_configure(request.user)
    form = forms.ReleaseNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, errors_text(form.errors))
        return redirect("winback:overview")
    data = form.cleaned_data
    campaign = services.release_note_create(
        title=data["title"], body=data["body"], url=data["url"], reason_codes=data["reasons"]
    )
    messages.success(
        request, _("Published; %(n)s past churner(s) enrolled and told.") % {"n": campaign.enrollments.count()}
    )
    return redirect("winback:campaign-detail", pk=campaign.pk)


# --- Public survey pages (no login) -------------------------------------------------------------------------------


def _closed(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "winback/survey_closed.html", {"reason": reason}, status=CLOSED_STATUS[reason])


@login_not_required
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_for_token(token=token)
    except SurveyTokenError as exc:
        return _closed(request, exc.reason)
    initial = {"score": request.GET.get("score")} if request.GET.get("score", "").isdigit() else {}
    form = forms.SurveyAnswerForm(request.POST or None, kind=invitation.kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_answer(
                token=token,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                issue_type=form.cleaned_data["issue_type"],
            )
        except SurveyTokenError as exc:
            return _closed(request, exc.reason)
        except ValueError as exc:
            form.add_error("score", str(exc))
        else:
            return redirect("winback:survey-thanks", token=token)
    scores = range(form.low, form.high + 1)
    status = 400 if request.method == "POST" else 200
    context = {"invitation": invitation, "form": form, "scores": scores, "selected": str(form["score"].value() or "")}
    return render(request, "winback/survey_answer.html", context, status=status)


@login_not_required
@require_GET
def survey_thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.survey_invitation(token=token)
    if invitation is None or invitation.response is None:
        raise Http404(_("No answer for this link."))
    return render(request, "winback/survey_thanks.html", {"invitation": invitation})
