"""Health pages and partials: the Customer 360 health section, profiles (editor, preview, backtest), the churn
model page and the priorities list. Thin: selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import Account
from churnapp.money import currency
from churnapp.paging import page_of
from churnapp.roles import can_configure, can_edit_account, require_configure
from health import conf, forms, scoring, selectors, services
from health.forms import SentimentForm
from health.models import HealthProfile
from health.tasks import train_churn_model


def _account(pk: int) -> Account:
    return get_object_or_404(Account.objects.select_related("owner"), pk=pk)


@require_GET
def account_health(request: HttpRequest, pk: int) -> HttpResponse:
    """The Customer 360 health section: breakdown, 90-day trend, changelog, churn risk, CSM sentiment."""
    account = _account(pk)
    context = selectors.account_health(account=account)
    context["can_edit"] = can_edit_account(request.user, account)
    context["sentiment_form"] = SentimentForm()
    return render(request, "health/account_health.html#account-health", context)


@require_POST
def sentiment_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    if not can_edit_account(request.user, account):
        raise PermissionDenied(_("You can only rate the accounts you own."))
    form = SentimentForm(request.POST)
    if form.is_valid():
        try:
            services.sentiment_create(account=account, author=request.user, **form.cleaned_data)
            messages.success(request, _("Sentiment saved; it counts in the health score from the next recompute."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Give a rating from 1 to 5, a comment and a future expiry date."))
    url = f"/accounts/{account.pk}/"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# Profiles: list, detail with the draft editor, live preview, backtest, save, publish --------------------------


@require_GET
def profile_list(request: HttpRequest) -> HttpResponse:
    profiles = [
        {"profile": p, "published": selectors.published_of(profile=p), "draft": selectors.draft_of(profile=p)}
        for p in selectors.profiles()
    ]
    return render(request, "health/profiles.html", {"profiles": profiles, "can_configure": can_configure(request.user)})


def _editor_context(request: HttpRequest, profile: HealthProfile, **extra) -> dict:
    draft = selectors.draft_of(profile=profile)
    published = selectors.published_of(profile=profile)
    shown = draft or published
    return {
        "profile": profile,
        "draft": draft,
        "published": published,
        "versions": selectors.profile_versions(profile=profile),
        "rows": forms.editor_rows(shown.factors if shown else []),
        "green_min": shown.green_min if shown else 70,
        "yellow_min": shown.yellow_min if shown else 40,
        "note": draft.note if draft else "",
        "can_configure": can_configure(request.user),
        "editable": bool(draft) and can_configure(request.user),
        **extra,
    }


@require_GET
def profile_detail(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(HealthProfile, pk=pk)
    return render(request, "health/profile_detail.html", _editor_context(request, profile))


@require_POST
def profile_draft_create(request: HttpRequest, pk: int) -> HttpResponse:
    require_configure(request.user, refusal=_("Only managers and admins configure health profiles."))
    profile = get_object_or_404(HealthProfile, pk=pk)
    services.profile_draft_get_or_create(profile=profile, actor=request.user)
    return redirect("health:profile-detail", pk=pk)


def _parsed(request: HttpRequest) -> tuple[list[dict], scoring.Bands | None, str, list[str]]:
    factors, green, yellow, note, errors = forms.parse_profile(request.POST)
    if not errors:
        errors = scoring.validate_profile(factors, green, yellow)
    bands = scoring.Bands(green, yellow) if not errors else None
    return factors, bands, note, errors


@require_POST
def profile_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Live preview of the editor's current values (nothing saved): band distribution if applied now."""
    require_configure(request.user, refusal=_("Only managers and admins configure health profiles."))
    profile = get_object_or_404(HealthProfile, pk=pk)
    factors, bands, _note, errors = _parsed(request)
    preview = None if errors else selectors.profile_preview(profile=profile, factors=factors, bands=bands)
    return render(request, "health/profile_detail.html#profile-preview", {"errors": errors, "preview": preview})


@require_POST
def profile_backtest(request: HttpRequest, pk: int) -> HttpResponse:
    """Replay the editor's current values over the last N months of observations."""
    require_configure(request.user, refusal=_("Only managers and admins configure health profiles."))
    get_object_or_404(HealthProfile, pk=pk)
    factors, bands, _note, errors = _parsed(request)
    form = forms.BacktestForm(request.POST)
    if not form.is_valid():
        errors = [*errors, *(message for messages in form.errors.values() for message in messages)]
    result = (
        None if errors else selectors.profile_backtest(factors=factors, bands=bands, months=form.cleaned_data["months"])
    )
    return render(request, "health/profile_detail.html#profile-backtest", {"errors": errors, "backtest": result})


@require_POST
def profile_save(request: HttpRequest, pk: int) -> HttpResponse:
    require_configure(request.user, refusal=_("Only managers and admins configure health profiles."))
    profile = get_object_or_404(HealthProfile, pk=pk)
    draft = services.profile_draft_get_or_create(profile=profile, actor=request.user)
    factors, green, yellow, note, errors = forms.parse_profile(request.POST)
    if not errors:
        try:
            services.profile_draft_update(
                draft=draft, factors=factors, green_min=green, yellow_min=yellow, note=note, actor=request.user
            )
        except ValidationError as exc:
            errors = exc.messages
    if errors:
        for error in errors:
            messages.error(request, error)
    else:
        messages.success(request, _("Draft v%(number)s saved.") % {"number": draft.number})
        if request.POST.get("publish"):
            try:
                services.profile_publish(draft=draft, actor=request.user)
                messages.success(
                    request, _("Published v%(number)s; scores are being recomputed.") % {"number": draft.number}
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
    return redirect("health:profile-detail", pk=pk)


# Churn model and priorities -------------------------------------------------------------------------------------


def _line_chart(labels: list, series: list[tuple[str, list, str]], *, y_title: str = "", **scales) -> dict:
    return {
        "type": "line",
        "data": {
            "labels": labels,
            "datasets": [
                # Straight segments between measured points: a curve would invent values between them.
                {"label": name, "data": data, "borderColor": color, "backgroundColor": color, "pointRadius": 2,
                 "tension": 0} for name, data, color in series
            ],
        },
        "options": {
            "maintainAspectRatio": False, "animation": False, "plugins": {"legend": {"position": "bottom"}},
            "scales": {"y": {"title": {"display": bool(y_title), "text": y_title}, **scales}},
        },
    }  # fmt: skip


def reliability_chart(rows: list[dict]) -> dict:
    """Predicted vs observed churn per probability bin, as points joined by straight lines, with the number of
    holdout accounts in each bin as bars on a second axis: a bin of 3 accounts says little."""
    chart = _line_chart(
        [f"{r['bin']} (n={r.get('n', '?')})" for r in rows],
        [
            (_("Predicted"), [r["predicted"] for r in rows], "#9db4f0"),
            (_("Observed"), [r["observed"] for r in rows], "#c0392b"),
        ],
        y_title=_("churn rate"),
        min=0,
        max=1,
    )
    chart["data"]["datasets"].append(
        {"label": _("Accounts in the bin"), "type": "bar", "data": [r.get("n") for r in rows],
         "backgroundColor": "rgba(120, 130, 150, .25)", "yAxisID": "n", "order": 10}
    )  # fmt: skip
    chart["options"]["scales"]["n"] = {
        "position": "right", "beginAtZero": True, "grid": {"drawOnChartArea": False},
        "title": {"display": True, "text": _("accounts")}, "ticks": {"precision": 0},
    }  # fmt: skip
    return chart


def _backtest_rows(lab: dict) -> list[dict]:
    """The backtest table for the page: per cutoff, the baseline first (the row to beat), then the others."""
    order = {"baseline": 0, "logistic": 1, "boosting": 2, "blend": 3}
    rows = sorted(lab.get("table", []), key=lambda r: (r["cutoff"], order.get(r["candidate"], 9)))
    base = {r["cutoff"]: r.get("auc") for r in rows if r["candidate"] == "baseline"}
    for row in rows:
        b = base.get(row["cutoff"])
        row["vs_baseline"] = None if b is None or row.get("auc") is None else row["auc"] - b
    return rows


@require_GET
def model_page(request: HttpRequest) -> HttpResponse:
    current = selectors.current_model()
    versions = selectors.model_versions()
    latest = versions[0] if versions else None
    backtest = selectors.latest_backtest()
    lab = backtest.metrics["lab"] if backtest else None
    context = {
        "current": current,
        "latest": latest,
        "versions": versions,
        "can_configure": can_configure(request.user),
        "backtest": backtest,
        "lab": lab,
        "backtest_rows": _backtest_rows(lab) if lab else [],
        "means": sorted((lab or {}).get("means", {}).items(), key=lambda kv: kv[0] != "baseline"),
        "lab_runs": selectors.lab_runs(limit=5),
        "lab_form": forms.LabRunForm(initial={"horizon_days": conf.get("CHURN_HORIZON_DAYS")}),
    }
    if current and current.metrics:
        rel = current.metrics["reliability"]
        context["reliability_chart"] = reliability_chart(rel)
        context["reliability_rows"] = rel
        profit = current.metrics["profit"]
        context["profit_chart"] = _line_chart(
            profit["k"],
            [
                (_("Realised on holdout"), profit["realised"], "#1f8a4c"),
                (_("Expected by the model"), profit["expected"], "#3457d5"),
            ],
            y_title=_("Value (%(currency)s) − action cost") % {"currency": currency()},
        )
    return render(request, "health/model.html", context)


@require_POST
def model_train(request: HttpRequest) -> HttpResponse:
    require_configure(request.user, refusal=_("Only managers and admins configure health profiles."))

    transaction.on_commit(lambda: train_churn_model.delay())
    messages.success(request, _("Training queued: the new model is promoted only if it beats the current one."))
    return redirect("health:model")


@require_POST
def model_lab(request: HttpRequest) -> HttpResponse:
    """Queue an evaluation of every candidate on the split in the form."""
    require_configure(request.user, refusal=_("Only managers and admins configure health profiles."))
    form = forms.LabRunForm(request.POST)
    if form.is_valid():
        try:
            services.lab_run_request(**form.cleaned_data, actor=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
    if form.errors:
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{field.replace('_', ' ')}: {error}" if field != "__all__" else error)
    else:
        messages.success(request, _("Lab run queued: every candidate is evaluated on that split."))
    return redirect("health:model")


@require_GET
def priorities(request: HttpRequest) -> HttpResponse:
    """Accounts ranked by expected revenue saved. A CSM starts with their book; anyone can switch to all."""
    scope = request.GET.get("scope") or ("all" if can_configure(request.user) else "mine")
    page = page_of(selectors.priorities(owner=request.user if scope == "mine" else None), page=request.GET.get("page"))
    context = {
        "page": page,
        "rows": selectors.predictions_with_driver_words(list(page.object_list)),
        "scope": scope,
        "current": selectors.current_model(),
        "action_cost": conf.get("ACTION_COST"),
        "save_rate": conf.get("SAVE_RATE"),
        "value_months": conf.get("VALUE_MONTHS"),
    }
    return render(request, "health/priorities.html", context)
