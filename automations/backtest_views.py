"""The rule backtest on the rule page and in the rule editor (htmx partials): how the rule would have done over
the last months of history. Thin: `automations.backtest.rule_backtest` does the work."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from automations.backtest import DEFAULT_MONTHS, MAX_MONTHS, MIN_MONTHS, BacktestInvalid, CannotBacktest, rule_backtest
from automations.forms import RuleForm
from automations.models import Rule
from churnapp.roles import require_configure

TEMPLATE = "automations/_backtest.html"


def _months(value) -> int | None:
    try:
        months = int(value or DEFAULT_MONTHS)
    except (TypeError, ValueError):
        return None
    return months if MIN_MONTHS <= months <= MAX_MONTHS else None


def _render(request: HttpRequest, context: dict, run) -> HttpResponse:
    months = _months(context.pop("months_value"))
    if months is None:
        context["errors"] = [_("Months must be a whole number from %(min)s to %(max)s.")
                             % {"min": MIN_MONTHS, "max": MAX_MONTHS}]  # fmt: skip
        return render(request, TEMPLATE, context)
    context["months"] = months
    try:
        result = run(months)
    except BacktestInvalid as exc:
        context["errors"] = [message for messages in exc.errors.values() for message in messages]
    except CannotBacktest as exc:
        context["errors"] = [str(exc)]
    else:
        context["result"] = result
        top = max([w["tasks"] + w["emails"] for w in result["weekly"]] + [1])
        context["bars"] = [
            {**week, "x": n, "h": f"{20 * (week['tasks'] + week['emails']) / top:.2f}",
             "y": f"{20 - 20 * (week['tasks'] + week['emails']) / top:.2f}"}
            for n, week in enumerate(result["weekly"])
        ]  # fmt: skip
    return render(request, TEMPLATE, context)


@require_GET
def rule_backtest_saved(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    context = {"rule": rule, "months_value": request.GET.get("months")}
    return _render(request, context, lambda months: rule_backtest(rule=rule, months=months))


@require_POST
def rule_backtest_draft(request: HttpRequest) -> HttpResponse:
    """Backtest of the editor's current (unsaved) conditions, actions and cooldown."""
    require_configure(request.user, refusal=_("Only managers and admins configure automations."))
    form = RuleForm(request.POST)
    context = {"draft": True, "months_value": request.POST.get("months")}
    if not form.is_valid():
        context["errors"] = [e for errors in form.errors.values() for e in errors]
        return render(request, TEMPLATE, context)
    data = form.cleaned_data
    return _render(request, context, lambda months: rule_backtest(
        tree=data["conditions_tree"], actions_list=data["actions_list"], cooldown_days=data["cooldown_days"],
        months=months,
    ))  # fmt: skip
