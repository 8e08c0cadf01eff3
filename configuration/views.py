"""The configuration page for admins: download the bundle, upload one to see its plan (creates, changes field by
field, deletes), and confirm to apply it (planned again from the carried text, then applied all or nothing)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from churnapp.roles import require_admin
from configuration import bundle
from configuration.forms import BundleConfirmForm, BundleUploadForm

TEMPLATE = "configuration/bundle.html"


@require_GET
def bundle_page(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    return render(request, TEMPLATE, {"form": BundleUploadForm()})


@require_GET
def bundle_download(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    response = HttpResponse(bundle.dump(bundle.export_bundle()), content_type="application/yaml; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="churnapp-configuration-{stamp}.yaml"'
    return response


def _planned(text: str, prune: bool) -> tuple[bundle.Plan | None, str]:
    try:
        return bundle.plan(bundle.parse(text), prune=prune), ""
    except bundle.BundleInvalid as exc:
        return None, str(exc)


@require_POST
def bundle_plan(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = BundleUploadForm(request.POST, request.FILES)
    context: dict = {"form": form}
    if form.is_valid():
        text, prune = form.cleaned_data["text"], form.cleaned_data["prune"]
        plan, error = _planned(text, prune)
        context.update(plan=plan, error=error, prune=prune)
        if plan is not None and not plan.empty:
            context["confirm"] = BundleConfirmForm(initial={"text": text, "prune": prune})
    return render(request, TEMPLATE, context, status=200 if not context.get("error") and form.is_valid() else 400)


@require_POST
def bundle_apply(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = BundleConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Upload the bundle again: the form was incomplete."))
        return redirect("configuration:bundle")
    try:
        result = bundle.apply(
            bundle.parse(form.cleaned_data["text"]), prune=form.cleaned_data["prune"], actor=request.user
        )
    except bundle.BundleInvalid as exc:
        context = {"form": BundleUploadForm(), "error": str(exc)}
        return render(request, TEMPLATE, context, status=400)
    counts = result.counts()
    messages.success(
        request,
        _("Applied: %(create)s created, %(change)s changed, %(delete)s deleted.") % counts,
    )
    return render(request, TEMPLATE, {"form": BundleUploadForm(), "applied": result})
