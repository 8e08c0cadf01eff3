"""Pages of the automations app: rules, playbooks, journeys and the account's automations section. Thin:
selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.models import Account, Segment
from automations import journeys, playbooks, rules, rules_yaml, selectors
from automations.builtins import builtins_install
from automations.forms import (
    AccountRoleForm,
    EnrolForm,
    JourneyForm,
    PlaybookSettingsForm,
    RuleForm,
    RuleImportForm,
)
from automations.hints import MILESTONE_HINTS, STEP_HINTS
from automations.models import Enrolment, Journey, MilestoneProgress, Playbook, Rule
from automations.playbook_forms import PlaybookForm
from automations.playbooks.flow import playbook_flow
from churnapp.editing import form_save
from churnapp.paging import page_of
from churnapp.roles import can_configure, can_edit_account, require_configure

# --- Rules -----------------------------------------------------------------------------------------------------------


def _rule_saved(rule: Rule) -> str:
    return _("Rule “%(name)s” saved.") % {"name": rule.name}


def _playbook_saved(playbook: Playbook) -> str:
    return _("Playbook “%(name)s” saved.") % {"name": playbook.name}


def _journey_saved(journey: Journey) -> str:
    return _("Journey “%(name)s” saved.") % {"name": journey.name}


@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    context = {"rules": selectors.rule_list(), "can_configure": can_configure(request.user),
               "import_form": RuleImportForm()}  # fmt: skip
    return render(request, "automations/rule_list.html", context)


@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_configure(request.user, refusal=_("Only managers and admins configure automations."))
    rule = get_object_or_404(Rule, pk=pk) if pk else None
    if request.method == "POST":
        form = RuleForm(request.POST)
        saved = form_save(request, form, lambda data: rules.rule_save(
            key=data["key"], name=data["name"], description=data["description"],
            cooldown_days=data["cooldown_days"], conditions_tree=data["conditions_tree"],
            actions_list=data["actions_list"], actor=request.user, rule=rule,
        ), refusals=(rules.RuleInvalid, ValidationError), saved=_rule_saved)  # fmt: skip
        if saved:
            return redirect("automations:rule-detail", pk=saved.pk)
    else:
        form = RuleForm(initial=RuleForm.initial_for(rule) if rule else {"cooldown_days": 7})
    return render(request, "automations/rule_edit.html", {"form": form, "rule": rule})


@require_POST
def rule_dry_run_draft(request: HttpRequest) -> HttpResponse:
    """Dry run of the editor's current (unsaved) conditions."""
    require_configure(request.user, refusal=_("Only managers and admins configure automations."))
    form = RuleForm(request.POST)
    if not form.is_valid():
        return render(request, "automations/rule_edit.html#dry-run", {"dry_errors": form.non_field_errors()})
    dry = rules.rule_dry_run(tree=form.cleaned_data["conditions_tree"])
    return render(request, "automations/rule_edit.html#dry-run", {"dry": dry})


@require_GET
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    context = {
        "rule": rule,
        "executions_page": (executions := page_of(selectors.rule_executions(rule=rule), page=request.GET.get("page"))),
        "executions": executions.object_list,
        "can_configure": can_configure(request.user),
        "yaml": rules_yaml.rules_export_yaml(rules=[rule]),
    }
    return render(request, "automations/rule_detail.html", context)


@require_GET
def rule_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    return render(request, "automations/rule_edit.html#dry-run", {"dry": rules.rule_dry_run(rule=rule)})


@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    require_configure(request.user, refusal=_("Only managers and admins configure automations."))
    rule = get_object_or_404(Rule, pk=pk)
    rules.rule_set_enabled(rule=rule, enabled=request.POST.get("enabled") == "1")
    if rule.enabled:
        messages.success(request, _("Rule “%(name)s” enabled.") % {"name": rule.name})
    else:
        messages.success(request, _("Rule “%(name)s” disabled.") % {"name": rule.name})
    return redirect("automations:rule-detail", pk=rule.pk)


@require_http_methods(["GET", "POST"])
def rule_run_now(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: how many accounts "Run now" would touch, with a button to confirm. POST (confirmed): run it."""
    require_configure(request.user, refusal=_("Only managers and admins configure automations."))
    rule = get_object_or_404(Rule, pk=pk)
    if request.method == "GET" or request.POST.get("confirmed") != "1":
        context = {"rule": rule, "preview": rules.rule_run_preview(rule=rule)}
        return render(request, "automations/rule_detail.html#run-now-confirm", context)
    result = rules.rule_run_now(rule=rule)
    messages.success(
        request, _("Ran “%(name)s”: fired for %(fired)s account(s).") % {"name": rule.name, "fired": result["fired"]}
    )
    return redirect("automations:rule-detail", pk=rule.pk)


@require_GET
def rules_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(rules_yaml.rules_export_yaml(), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="churnapp-rules.yaml"'
    return response


@require_POST
def rules_import(request: HttpRequest) -> HttpResponse:
    require_configure(request.user, refusal=_("Only managers and admins configure automations."))
    form = RuleImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()))
        return redirect("automations:rule-list")
    try:
        counts = rules_yaml.rules_import_yaml(text=form.cleaned_data["yaml"], actor=request.user)
    except rules.RuleInvalid as exc:
        messages.error(request, _("Nothing imported: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Imported: %(created)s created, %(updated)s updated.") % counts)
    return redirect("automations:rule-list")


@require_POST
def builtins_install_view(request: HttpRequest) -> HttpResponse:
    require_configure(request.user, refusal=_("Only managers and admins configure automations."))
    counts = builtins_install()
    installed = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
    messages.success(request, _("Built-in templates installed: %(installed)s") % {"installed": installed})
    return redirect("automations:rule-list")


# --- Playbooks -------------------------------------------------------------------------------------------------------


@require_GET
def playbook_list(request: HttpRequest) -> HttpResponse:
    context = {"playbooks": selectors.playbook_list(), "enrolments": selectors.active_enrolments(limit=100),
               "can_configure": can_configure(request.user)}  # fmt: skip
    return render(request, "automations/playbook_list.html", context)


@require_http_methods(["GET", "POST"])
def playbook_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or edit a playbook and its steps (managers and admins); a refusal is shown on the field it names."""
    require_configure(request.user, refusal=_("Only managers and admins configure automations."))
    playbook = get_object_or_404(Playbook, pk=pk) if pk else None
    if request.method == "POST":
        form = PlaybookForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = playbooks.playbook_save(
                    key=data["key"], name=data["name"], description=data["description"], trigger=data["trigger"],
                    owner_role=data["owner_role"], metric=data["metric"], holdout_percent=data["holdout_percent"],
                    enabled=data["enabled"], steps=data["steps"], playbook=playbook,
                )  # fmt: skip
            except playbooks.PlaybookInvalid as exc:
                form.refuse(exc)
            else:
                messages.success(request, _playbook_saved(saved))
                return redirect("automations:playbook-detail", pk=saved.pk)
    else:
        form = PlaybookForm(initial=PlaybookForm.initial_for(playbook) if playbook else {"enabled": True})
    flow = playbook_flow(steps=list(playbook.steps.order_by("order"))) if playbook else None
    context = {"form": form, "playbook": playbook, "hints": STEP_HINTS, "flow": flow}
    return render(request, "automations/playbook_edit.html", context)


@require_http_methods(["GET", "POST"])
def playbook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook.objects.prefetch_related("steps"), pk=pk)
    form = PlaybookSettingsForm(instance=playbook)
    if request.method == "POST":
        require_configure(request.user, refusal=_("Only managers and admins configure automations."))
        form = PlaybookSettingsForm(request.POST, instance=playbook)
        if form.is_valid():
            form.save()
            messages.success(request, _("Playbook settings saved."))
            return redirect("automations:playbook-detail", pk=playbook.pk)
    enrolments = list(playbook.enrolments.select_related("account").order_by("-enrolled_at", "-id")[:50])
    paths = playbooks.enrolment_paths(enrolment_ids=[e.pk for e in enrolments])
    exits = playbooks.playbook_exits(playbook=playbook)
    context = {
        "playbook": playbook,
        "form": form,
        "report": playbooks.playbook_impact(playbook=playbook),
        "exits": exits,
        "paths": playbooks.playbook_paths(playbook=playbook),
        "flow": playbook_flow(steps=list(playbook.steps.all()),
                              counts={(x["order"], x["outcome"]): x["n"] for x in exits}),
        "enrolments": [(e, paths[e.pk]) for e in enrolments],
        "can_configure": can_configure(request.user),
    }  # fmt: skip
    return render(request, "automations/playbook_detail.html", context)


@require_GET
def account_automations(request: HttpRequest, pk: int) -> HttpResponse:
    """Customer 360 partial: the account's playbook enrolments with progress, and its milestones."""
    account = get_object_or_404(Account, pk=pk)
    return render(request, "automations/account_section.html#account-automations", _account_context(request, account))


def _account_context(request: HttpRequest, account: Account, role_form: AccountRoleForm | None = None) -> dict:
    return {
        "account": account,
        "enrolments": selectors.account_enrolments(account_id=account.pk),
        "milestones": selectors.account_milestones(account_id=account.pk),
        "team": selectors.account_team(account_id=account.pk),
        "owner_roles": selectors.owner_roles_in_use() if role_form is not None else [],
        "role_form": role_form,
        "enrol_form": EnrolForm(),
        "can_edit": can_edit_account(request.user, account),
    }


@require_POST
def account_enrol(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    if not can_edit_account(request.user, account):
        raise PermissionDenied(_("You can only edit the accounts you own."))
    form = EnrolForm(request.POST)
    if form.is_valid():
        playbooks.playbook_enrol(
            playbook=form.cleaned_data["playbook"], account=account, source=f"user:{request.user.pk}"
        )
    if request.htmx:
        return render(
            request, "automations/account_section.html#account-automations", _account_context(request, account)
        )
    return redirect("account-detail", pk=account.pk)


@require_http_methods(["GET", "POST"])
def account_role_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Customer 360: make a user the holder of a working role for the account (blank user: nobody).

    GET answers the form alone: the section shows a button for it, so the list of every user is rendered only
    when someone assigns a role, not on each Customer 360 view.
    """
    account = get_object_or_404(Account, pk=pk)
    if not can_edit_account(request.user, account):
        raise PermissionDenied(_("You can only edit the accounts you own."))
    if request.method == "GET":
        context = {"account": account, "role_form": AccountRoleForm(), "owner_roles": selectors.owner_roles_in_use()}
        return render(request, "automations/account_section.html#account-role-form", context)
    form = AccountRoleForm(request.POST)
    if form.is_valid():
        journeys.account_role_assign(account=account, role=form.cleaned_data["role"], user=form.cleaned_data["user"])
        form = None
    if request.htmx:
        return render(request, "automations/account_section.html#account-automations",
                      _account_context(request, account, role_form=form))  # fmt: skip
    return redirect("account-detail", pk=account.pk)


@require_POST
def enrolment_stop(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = get_object_or_404(Enrolment.objects.select_related("account"), pk=pk)
    if not can_edit_account(request.user, enrolment.account):
        raise PermissionDenied(_("You can only edit the accounts you own."))
    playbooks.enrolment_stop(enrolment=enrolment, reason="Stopped by hand", actor=request.user)
    if request.htmx:
        return render(request, "automations/account_section.html#account-automations",
                      _account_context(request, enrolment.account))  # fmt: skip
    return redirect("account-detail", pk=enrolment.account_id)


@require_POST
def milestone_reach(request: HttpRequest, pk: int) -> HttpResponse:
    progress = get_object_or_404(MilestoneProgress.objects.select_related("account"), pk=pk)
    if not can_edit_account(request.user, progress.account):
        raise PermissionDenied(_("You can only edit the accounts you own."))
    journeys.milestone_reach(progress=progress, actor=request.user)
    if request.htmx:
        return render(request, "automations/account_section.html#account-automations",
                      _account_context(request, progress.account))  # fmt: skip
    return redirect("account-detail", pk=progress.account_id)


# --- Journeys --------------------------------------------------------------------------------------------------------


@require_GET
def journey_list(request: HttpRequest) -> HttpResponse:
    context = {"journeys": selectors.journey_list(), "can_configure": can_configure(request.user)}
    return render(request, "automations/journey_list.html", context)


@require_http_methods(["GET", "POST"])
def journey_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or edit a journey (or onboarding template) and its milestones (managers and admins)."""
    require_configure(request.user, refusal=_("Only managers and admins configure automations."))
    journey = get_object_or_404(Journey, pk=pk) if pk else None
    if request.method == "POST":
        form = JourneyForm(request.POST)
        saved = form_save(request, form, lambda data: journeys.journey_save(
            key=data["key"], name=data["name"], description=data["description"],
            onboarding=data["onboarding"], segment=data["segment"], milestones=data["milestones"], journey=journey,
        ), refusals=(journeys.JourneyInvalid,), saved=_journey_saved)  # fmt: skip
        if saved:
            return redirect("automations:journey-list")
    else:
        form = JourneyForm(initial=JourneyForm.initial_for(journey) if journey else {})
    context = {"form": form, "journey": journey, "hints": MILESTONE_HINTS}
    return render(request, "automations/journey_edit.html", context)


@require_GET
@vary_on_headers("HX-Request")
def journey_funnel(request: HttpRequest, pk: int) -> HttpResponse:
    journey = get_object_or_404(Journey, pk=pk)
    segment = request.GET.get("segment", "")
    cohort = request.GET.get("cohort", "")
    cohorts = selectors.journey_cohorts(journey=journey)
    if cohort not in cohorts:
        cohort = ""
    if segment not in Segment.values:
        segment = ""
    context = {
        "journey": journey,
        "funnel": selectors.journey_funnel(journey=journey, segment=segment, cohort=cohort),
        "cohorts": cohorts,
        "segments": Segment.choices,
        "segment": segment,
        "cohort": cohort,
    }
    if request.htmx:
        return render(request, "automations/journey_funnel.html#funnel", context)
    return render(request, "automations/journey_funnel.html", context)
