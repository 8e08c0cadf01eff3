"""Bulk edits on the accounts list: ask (on the ticked rows or on every account matching the filters), confirm
with the count, follow the progress. Thin: `accounts.services.bulk_edits` resolves, checks and writes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors
from accounts.filters import InvalidFilters, bulk_selection
from accounts.models import BulkEdit, BulkEditStatus
from accounts.services import bulk_edits
from churnapp.roles import can_configure


def bulk_action_options(user) -> list[dict]:
    """The bulk edits the user's role offers, with each one's value options (None: typed in)."""
    return [
        {"key": a.key, "label": a.label, "options": a.choices() if a.choices else None, "needs_key": a.needs_key}
        for a in bulk_edits.actions()
        if not a.permission or user.has_perm(a.permission)
    ]


def _list_url(query: str) -> str:
    return reverse("account-list") + (f"?{query}" if query else "")


@require_POST
def bulk_edit_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.change_account"):
        raise PermissionDenied(_("Your role can view accounts but not change them."))
    query = request.POST.get("query", "")
    matching = request.POST.get("scope") == "matching"
    ids = [int(v) for v in request.POST.getlist("accounts") if v.isdigit()]
    try:
        scope, query, accounts = bulk_selection(request, query=query if matching else None, ids=ids)
    except InvalidFilters:
        messages.error(request, _("The list's filters are not valid: correct them before editing every match."))
        return redirect(_list_url(query))
    action = request.POST.get("action", "")
    value = request.POST.get("value_text" if bulk_edits.is_typed(action) else f"value_{action}", "")
    try:
        job = bulk_edits.bulk_edit_prepare(
            actor=request.user,
            action=action,
            value=value,
            key=request.POST.get("key", ""),
            scope=scope,
            query=query,
            accounts=accounts,
        )
    except bulk_edits.BulkEditInvalid as exc:
        messages.error(request, str(exc))
        return redirect(_list_url(query))
    return redirect("bulk-edit-detail", pk=job.pk)


def _job_for(request: HttpRequest, pk: int) -> BulkEdit:
    job = get_object_or_404(BulkEdit, pk=pk)
    if job.created_by_id != request.user.pk and not can_configure(request.user):
        raise PermissionDenied(_("This bulk edit belongs to someone else."))
    return job


@require_GET
def bulk_edit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The confirmation of a draft (how many accounts, which ones first), then the progress of the run."""
    job = _job_for(request, pk)
    context = {
        "job": job,
        "preview": selectors.bulk_edit_preview(job=job) if job.status == BulkEditStatus.DRAFT else [],
        "can_confirm": job.status == BulkEditStatus.DRAFT and job.created_by_id == request.user.pk,
        "list_url": _list_url(job.query),
    }
    template = "accounts/bulk_edit.html#bulk-progress" if request.htmx else "accounts/bulk_edit.html"
    return render(request, template, context)


def _outcome(job: BulkEdit) -> str:
    text = ngettext(
        "%(summary)s — changed %(count)s account", "%(summary)s — changed %(count)s accounts", job.changed
    ) % {"summary": job.summary, "count": f"{job.changed:,}"}
    if job.unchanged:
        text += _("; %(count)s already so") % {"count": f"{job.unchanged:,}"}
    return text + "."


@require_POST
def bulk_edit_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    try:
        job = bulk_edits.bulk_edit_confirm(job=job, actor=request.user)
    except bulk_edits.BulkEditInvalid as exc:
        messages.error(request, str(exc))
        return redirect("bulk-edit-detail", pk=job.pk)
    if job.status == BulkEditStatus.DONE:
        messages.success(request, _outcome(job))
        return redirect(_list_url(job.query))
    return redirect("bulk-edit-detail", pk=job.pk)


@require_POST
def bulk_edit_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    was_draft = job.status == BulkEditStatus.DRAFT
    job = bulk_edits.bulk_edit_cancel(job=job, actor=request.user)
    if was_draft:
        messages.info(request, _("Bulk edit cancelled: nothing changed."))
        return redirect(_list_url(job.query))
    messages.info(
        request,
        _("Bulk edit stopped after %(processed)s of %(total)s accounts.")
        % {"processed": f"{job.processed:,}", "total": f"{job.total:,}"},
    )
    return redirect("bulk-edit-detail", pk=job.pk)
