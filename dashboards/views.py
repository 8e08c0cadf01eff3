"""The manager dashboard: a page of widgets that load on their own, drill-downs, CSV exports, goals and CAC.

Thin: `dashboards.widgets` assembles what a widget shows from the KPI catalog; services write.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.selectors import owner_choices
from churnapp.csvsafe import csv_response
from churnapp.money import currency
from churnapp.roles import can_configure
from dashboards import selectors, services
from dashboards.api import money_keys
from dashboards.catalog import KPIS
from dashboards.forms import DEFAULT_PERIOD, AcquisitionCostForm, DashboardFilterForm, GoalForm
from dashboards.goals import goals_progress
from dashboards.models import AcquisitionCost, Goal
from dashboards.params import KpiQuery
from dashboards.selectors.drilldown import drilldown as drilldown_query
from dashboards.selectors.drilldown import drilldown_accounts, measures
from dashboards.selectors.goals import acquisition_cost_list, goal_list, quarter_bounds
from dashboards.widgets.registry import WIDGETS
from dashboards.widgets.state import DashboardState


def _state(request: HttpRequest) -> tuple[DashboardFilterForm, DashboardState]:
    """The filter bar from the query string. Invalid values show as errors in the bar and the defaults apply."""
    data = request.GET.copy()
    if not data.get("period"):
        data["period"] = "custom" if data.get("start") or data.get("end") else DEFAULT_PERIOD
    shown = DashboardFilterForm(data)
    form = shown if shown.is_valid() else DashboardFilterForm({})
    form.is_valid()
    data = form.cleaned_data
    query = KpiQuery(start=data["start"], end=data["end"], filters=form.filters(request.user.pk))
    return shown, DashboardState(query=query, period=data["period"])


def _owner_options(selected: str) -> str:
    """The owner filter's options, built in Python: a team can have a thousand users and a template loop per option
    would cost the page more than all its figures."""
    users = owner_choices().values_list("pk", "first_name", "last_name", "username")
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((pk, " selected" if str(pk) == selected else "", f"{first} {last}".strip() or username)
         for pk, first, last, username in users),
    )  # fmt: skip


@require_GET
@vary_on_headers("HX-Request")
def dashboard(request: HttpRequest) -> HttpResponse:
    form, state = _state(request)
    context = {"state": state, "widgets": {name.replace("-", "_"): title for name, (title, _) in WIDGETS.items()}}
    if request.htmx and request.htmx.target == "dashboard-widgets":
        # A filter change: only the widgets are swapped (each then loads its figures).
        return render(request, "dashboards/dashboard.html#dashboard-widgets", context)
    context |= {
        "form": form,
        "owner_options": _owner_options(form.data.get("owner", "")),
        "plans": selectors.plan_choices(),
        "run": selectors.latest_run(),
    }
    return render(request, "dashboards/dashboard.html", context)


def _widget(request: HttpRequest, widget: str) -> tuple[DashboardState, str, dict]:
    if widget not in WIDGETS:
        raise Http404(_("No such widget."))
    _form, state = _state(request)
    title, build = WIDGETS[widget]
    with selectors.shared_reads():
        context = build(state)
        # Precomputed figures say how old they are: the widget prints this when any of its reads came from facts.
        return state, title, {**context, "facts_at": selectors.facts_read_at()}


@require_GET
@vary_on_headers("HX-Request")
def dashboard_widget(request: HttpRequest, widget: str) -> HttpResponse:
    state, title, context = _widget(request, widget)
    return render(request, f"dashboards/widgets.html#{widget}", {**context, "state": state, "title": title})


def _csv_response(filename: str, columns: list[str], rows, *, money_columns=()) -> StreamingHttpResponse:
    """The rows as CSV. A widget whose columns hold amounts declares them (`money_columns`), and the file names
    their currency in a last `currency` column (ISO 4217); a widget with amounts in some rows only gives each row
    its own `currency` column."""
    code = currency() if money_columns else None
    cells = (["" if row.get(c) is None else row.get(c) for c in columns] + ([code] if code else []) for row in rows)
    return csv_response(filename=filename, header=[*columns, *(["currency"] if code else [])], rows=cells)


@require_GET
def dashboard_widget_csv(request: HttpRequest, widget: str) -> StreamingHttpResponse:
    state, _, context = _widget(request, widget)
    filename = f"churnapp-{widget}-{state.query.start:%Y%m%d}-{state.query.end:%Y%m%d}.csv"
    return _csv_response(filename, context["columns"], context["rows"], money_columns=context.get("money_columns", ()))


def _drilldown(request: HttpRequest, kpi: str, measure: str):
    spec = KPIS.get(kpi)
    if spec is None or spec.kind == "snapshot" or measure not in measures(kpi):
        raise Http404(_("No such drill-down."))
    params = spec.params(data=request.GET, context={"request": request})
    if not params.is_valid():
        raise Http404("; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in params.errors.items()))
    cohort, k = None, None
    if kpi == "cohort-retention":
        try:
            cohort = dt.date.fromisoformat(request.GET.get("cohort", "") + "-01")
            k = int(request.GET.get("k", "0"))
        except ValueError as exc:
            raise Http404(_("Give the cohort as YYYY-MM and k as a number.")) from exc
    query = params.query()
    try:
        result = drilldown_query(kpi=kpi, measure=measure, query=query, cohort=cohort, k=k, options=request.GET)
    except ValueError as exc:
        raise Http404(str(exc)) from exc
    return spec, query, result


@require_GET
def drilldown(request: HttpRequest, kpi: str, measure: str) -> HttpResponse:
    spec, query, result = _drilldown(request, kpi, measure)
    context = {
        "kpi": spec,
        "measure": measure,
        "query": query,
        "result": result,
        "accounts": drilldown_accounts(result),
        "querystring": request.GET.urlencode(),
    }
    if request.htmx:
        return render(request, "dashboards/drilldown.html#drilldown-table", context)
    return render(request, "dashboards/drilldown.html", context)


@require_GET
def drilldown_csv(request: HttpRequest, kpi: str, measure: str) -> StreamingHttpResponse:
    _, query, result = _drilldown(request, kpi, measure)
    extra = [column for column, _ in result.columns]
    rows = (
        {"account_id": a.pk, "external_id": a.external_id, "name": a.name, "segment": a.segment, "plan": a.plan,
         "owner": (a.owner.get_full_name() or a.owner.get_username()) if a.owner else "", **figures}
        for a, figures in drilldown_accounts(result, limit=None)
    )  # fmt: skip
    filename = f"churnapp-{kpi}-{measure}-{query.start:%Y%m%d}-{query.end:%Y%m%d}.csv"
    columns = ["account_id", "external_id", "name", "segment", "plan", "owner", *extra]
    # The figures beside the accounts are the KPI's own fields: amounts where the API declares them so.
    return _csv_response(filename, columns, rows, money_columns=[c for c in extra if c in money_keys(kpi)])


def _require_manager(request: HttpRequest) -> None:
    if not can_configure(request.user):
        raise PermissionDenied(_("Only managers and admins set goals and CAC."))


@require_http_methods(["GET", "POST"])
def goals(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
        quarter = int(request.GET.get("quarter", (today.month - 1) // 3 + 1))
        quarter_bounds(year, quarter)
    except ValueError as exc:
        raise Http404(_("No such quarter.")) from exc
    form = GoalForm(initial={"year": year, "quarter": quarter})
    if request.method == "POST":
        _require_manager(request)
        form = GoalForm(request.POST)
        if form.is_valid():
            goal = services.goal_create(actor=request.user, **form.cleaned_data)
            messages.success(request, _("Goal saved: %(goal)s.") % {"goal": goal})
            return redirect(f"{request.path}?year={goal.year}&quarter={goal.quarter}")
    context = {
        "form": form,
        "year": year,
        "quarter": quarter,
        "progress": goals_progress(year=year, quarter=quarter, today=today),
        "quarters": goal_list().values_list("year", "quarter").distinct().order_by("-year", "-quarter"),
        "can_configure": can_configure(request.user),
    }
    return render(request, "dashboards/goals.html", context)


@require_POST
def goal_delete(request: HttpRequest, pk: int) -> HttpResponse:
    goal = get_object_or_404(Goal, pk=pk)
    services.goal_delete(actor=request.user, goal=goal)
    messages.success(request, _("Goal deleted."))
    return redirect(f"{reverse('dashboard-goals')}?year={goal.year}&quarter={goal.quarter}")


@require_http_methods(["GET", "POST"])
def cac(request: HttpRequest) -> HttpResponse:
    form = AcquisitionCostForm()
    if request.method == "POST":
        _require_manager(request)
        form = AcquisitionCostForm(request.POST)
        if form.is_valid():
            entry = services.acquisition_cost_set(actor=request.user, **form.cleaned_data)
            messages.success(request, _("CAC for %(month)s saved.") % {"month": date_format(entry.month, "F Y")})
            return redirect("dashboard-cac")
    context = {"form": form, "entries": acquisition_cost_list()[:120], "can_configure": can_configure(request.user)}
    return render(request, "dashboards/cac.html", context)


@require_POST
def cac_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.acquisition_cost_delete(actor=request.user, entry=get_object_or_404(AcquisitionCost, pk=pk))
    messages.success(request, _("CAC entry deleted."))
    return redirect("dashboard-cac")
