"""Pages of the CSM workspace: My day, the accounts list and the Customer 360. Thin: selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from accounts import selectors, services
from accounts.bulk_views import bulk_action_options
from accounts.filters import AccountFilterSet, filter_data
from accounts.forms import NoteForm, OwnerForm, SavedViewForm, StatusForm, TaskCompleteForm, TaskForm
from accounts.models import Account, AccountStatus, SavedView, Task
from accounts.search import MIN_LENGTH, clean_query, search_everything
from churnapp.paging import page_of
from churnapp.redirects import redirect_next
from churnapp.roles import can_configure, can_edit_account
from churnapp.templatetags.people import display_name

PAGE_SIZE = 25


def _account_or_404(pk: int) -> Account:
    try:
        return selectors.account_detail(pk=pk)
    except Account.DoesNotExist as exc:
        raise Http404(_("No such account.")) from exc


def _require_edit(request: HttpRequest, account: Account) -> None:
    if not can_edit_account(request.user, account):
        raise PermissionDenied(_("You can only edit the accounts you own."))


@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    # Managers without a book of their own land on the team view; anyone may switch with ?scope=.
    scope = request.GET.get("scope")
    if scope not in ("mine", "team"):
        scope = "mine" if request.user.owned_accounts.exists() or not can_configure(request.user) else "team"
    return render(request, "accounts/my_day.html", selectors.my_day(user=request.user, team=scope == "team"))


@require_GET
@never_cache
def my_day_tasks(request: HttpRequest) -> HttpResponse:
    """My day's task list, polled every few seconds: 204 (nothing to redraw) until a task lands or closes."""
    if request.GET.get("v") == selectors.my_tasks_version(user=request.user):
        return HttpResponse(status=204)
    return render(request, "accounts/my_day.html#my-tasks", selectors.my_tasks(user=request.user))


@require_GET
@vary_on_headers("HX-Request")
def account_list(request: HttpRequest) -> HttpResponse:
    data = filter_data(request.GET)
    filterset = AccountFilterSet(data, queryset=selectors.account_list(), request=request)
    # Invalid values (a letter in "MRR from", an unknown status) show as field errors and are ignored,
    # never a server error.
    queryset = filterset.qs if filterset.is_valid() else selectors.account_list().none()
    paginator = Paginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    params = data.copy()
    params.pop("page", None)
    ordering = request.GET.get("ordering", "")
    context = {
        "filterset": filterset,
        "page": page,
        "accounts": page.object_list,
        "query": params.urlencode(),
        "ordering": ordering,
        "owners": selectors.owner_options(),
        "saved_views": selectors.saved_views_for(user=request.user),
        "can_bulk_edit": request.user.has_perm("accounts.change_account"),
        "bulk_actions": bulk_action_options(request.user),
        "saved_view_form": SavedViewForm(initial={"query": params.urlencode()}),
    }
    if request.htmx and request.htmx.target == "account-table":
        return render(request, "accounts/account_list.html#account-table", context)
    return render(request, "accounts/account_list.html", context)


@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.add_savedview"):
        raise PermissionDenied(_("Viewers cannot save views."))
    form = SavedViewForm(request.POST)
    if form.is_valid():
        view = services.saved_view_create(
            owner=request.user,
            name=form.cleaned_data["name"],
            query=form.cleaned_data["query"],
            shared=form.cleaned_data["shared"],
        )
        messages.success(request, _("Saved view “%(name)s”.") % {"name": view.name})
        return redirect(f"{reverse('account-list')}?{view.query}")
    messages.error(request, _("A saved view needs a name (up to 100 characters)."))
    return redirect(f"{reverse('account-list')}?{request.POST.get('query', '')}")


@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=pk)
    services.saved_view_delete(view=view, actor=request.user)
    messages.success(request, _("Deleted view “%(name)s”.") % {"name": view.name})
    return redirect("account-list")


def _read_only_reason(request: HttpRequest, account: Account) -> str:
    if not request.user.has_perm("accounts.change_account"):
        return _("Read-only: your role can view accounts but not change them.")
    owner = display_name(account.owner, _("nobody"))
    return _(
        "Read-only: this account belongs to %(owner)s. You can see everything; notes, tasks, status and owner "
        "changes are for its owner and managers."
    ) % {"owner": owner}


@require_GET
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(pk)
    can_edit = can_edit_account(request.user, account)
    context = {
        "account": account,
        "can_edit": can_edit,
        "read_only_reason": "" if can_edit else _read_only_reason(request, account),
        "status_form": StatusForm(initial={"status": account.status}),
        "owners": selectors.owner_options() if can_edit else [],
        "statuses": AccountStatus.choices,
    }
    return render(request, "accounts/account_detail.html", context)


SECTIONS = ("timeline", "subscriptions", "usage", "tickets", "contacts", "tasks")


def _section_context(request: HttpRequest, account: Account, section: str, **extra) -> dict:
    context = {"account": account, "can_edit": can_edit_account(request.user, account), **extra}
    if section == "timeline":
        context["timeline"] = selectors.account_timeline(account=account)
        context.setdefault("note_form", NoteForm())
    elif section == "subscriptions":
        context["subscriptions"] = selectors.account_subscriptions(account=account)
    elif section == "usage":
        usage = selectors.account_usage_weekly(account=account)
        context["usage_chart_id"] = f"usage-chart-{account.pk}"
        context["usage_chart"] = _usage_chart(usage)
    elif section == "tickets":
        context["tickets"] = selectors.account_tickets(account=account)
    elif section == "contacts":
        context["contacts"] = selectors.account_contacts(account=account)
    elif section == "tasks":
        tasks = page_of(selectors.account_tasks(account=account), page=request.GET.get("page"), per_page=20)
        context["tasks_page"] = tasks
        context["tasks"] = tasks.object_list
        context.setdefault("task_form", TaskForm())
        context["owners"] = selectors.owner_options() if context["can_edit"] else []
    return context


def _usage_chart(usage: list[dict]) -> dict:
    """Chart.js config: events per week as bars, active users as a line on a second axis."""
    return {
        "type": "bar",
        "data": {
            "labels": [date_format(row["week"], "MONTH_DAY_FORMAT") for row in usage],
            "datasets": [
                {"label": _("Events"), "data": [row["events"] for row in usage], "backgroundColor": "#9db4f0",
                 "yAxisID": "y"},
                {"label": _("Active users"), "data": [row["users"] for row in usage], "type": "line",
                 "borderColor": "#1f8a4c", "backgroundColor": "#1f8a4c", "yAxisID": "users", "tension": 0},
            ],
        },
        "options": {
            "maintainAspectRatio": False,
            "animation": False,
            "plugins": {"legend": {"position": "bottom"}},
            "scales": {
                "y": {"beginAtZero": True, "title": {"display": True, "text": "events"}},
                "users": {"beginAtZero": True, "position": "right", "grid": {"drawOnChartArea": False},
                          "title": {"display": True, "text": "users"}, "ticks": {"precision": 0}},
            },
        },
    }  # fmt: skip


@require_GET
def account_section(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    if section not in SECTIONS:
        raise Http404(_("No such section."))
    account = _account_or_404(pk)
    return render(request, f"accounts/account_detail.html#{section}", _section_context(request, account, section))


@require_POST
def account_note_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(pk)
    _require_edit(request, account)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.activity_create(account=account, author=request.user, **form.cleaned_data)
        form = NoteForm()
    context = _section_context(request, account, "timeline", note_form=form)
    if not request.htmx:
        return redirect("account-detail", pk=pk)
    return render(request, "accounts/account_detail.html#timeline", context)


@require_POST
def account_task_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(pk)
    _require_edit(request, account)
    form = TaskForm(request.POST)
    if form.is_valid():
        services.task_create(account=account, created_by=request.user, **form.cleaned_data)
        form = TaskForm()
    if not request.htmx:
        return redirect("account-detail", pk=pk)
    return render(
        request, "accounts/account_detail.html#tasks", _section_context(request, account, "tasks", task_form=form)
    )


@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("account"), pk=pk)
    form = TaskCompleteForm(request.POST)
    form.is_valid()
    services.task_complete(task=task, actor=request.user, outcome=form.cleaned_data.get("outcome", ""))
    if request.htmx:
        return render(request, "htmx/task-row.html", {"task": task, "today": task.completed_at.date()})
    return redirect_next(request, "home")


@require_POST
def account_status_change(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(pk)
    _require_edit(request, account)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the listed statuses."))
    else:
        services.account_set_status(account=account, status=form.cleaned_data["status"], actor=request.user)
        messages.success(request, _("Status set to %(status)s.") % {"status": account.get_status_display()})
    return _back_to_account(request, account)


@require_POST
def account_owner_change(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(pk)
    _require_edit(request, account)
    form = OwnerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an active user as owner."))
    else:
        services.account_assign_owner(accounts=[account], owner=form.cleaned_data["owner"], actor=request.user)
        messages.success(request, _("Owner changed."))
    return _back_to_account(request, account)


def _back_to_account(request: HttpRequest, account: Account) -> HttpResponse:
    url = reverse("account-detail", args=[account.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_GET
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    """Search across everything: the page, or (from the top bar, as the user types) its results alone."""
    q = clean_query(request.GET.get("q", ""))
    groups = search_everything(q=q, limit=5 if request.htmx else 20)
    context = {"q": q, "groups": groups, "too_short": 0 < len(q) < MIN_LENGTH}
    if request.htmx:
        return render(request, "accounts/search.html#search-results", context)
    return render(request, "accounts/search.html", context)
