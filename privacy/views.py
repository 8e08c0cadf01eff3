"""Admins' pages for data-subject requests: the personal data card on the Customer 360, the erasure confirmation
(what is removed, what is kept, typed confirmation) and the export download. Thin: selectors read, services erase."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Account, Contact
from churnapp.roles import require_admin
from privacy import selectors, services
from privacy.forms import ErasureConfirmForm

DOOR = "ui"


@require_GET
def account_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The Customer 360's "Personal data" card: export or erase the account, or one of its contacts."""
    require_admin(request.user)
    account = get_object_or_404(Account, pk=pk)
    contacts, total = selectors.account_contacts(account)
    context = {"account": account, "contacts": contacts, "total": total, "more": total - len(contacts)}
    return render(request, "privacy/account_card.html", context)


def _erase(request: HttpRequest, obj: Contact | Account) -> HttpResponse:
    subject = selectors.subject_for(obj)
    form = ErasureConfirmForm(request.POST or None, expected=subject.confirmation)
    if request.method == "POST" and form.is_valid():
        erase = services.erase_contact if subject.kind == selectors.CONTACT else services.erase_account
        try:
            summary = erase(**{subject.kind: obj}, actor=request.user, door=DOOR)
        except services.ErasureRefused as exc:
            form.add_error(None, str(exc))
        else:
            text = ngettext(
                "Personal data erased: %(rows)s row scrubbed in %(places)s place.",
                "Personal data erased: %(rows)s rows scrubbed in %(places)s places.",
                summary.rows,
            )
            messages.success(request, text % {"rows": summary.rows, "places": summary.places})
            return redirect("account-detail", pk=subject.account.pk)
    context = {
        "subject": subject,
        "form": form,
        "plan": selectors.erasure_plan(subject),
        "kept": services.KEPT,
        "export_url": f"privacy:{subject.kind}-export",
    }
    return render(request, "privacy/erase.html", context)


@require_http_methods(["GET", "POST"])
def contact_erase(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    return _erase(request, get_object_or_404(Contact.objects.select_related("account"), pk=pk))


@require_http_methods(["GET", "POST"])
def account_erase(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    return _erase(request, get_object_or_404(Account, pk=pk))


def _download(obj: Contact | Account) -> StreamingHttpResponse:
    subject = selectors.subject_for(obj)
    response = StreamingHttpResponse(selectors.export_chunks(subject), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{selectors.export_filename(subject)}"'
    return response


@require_GET
def contact_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    require_admin(request.user)
    return _download(get_object_or_404(Contact.objects.select_related("account"), pk=pk))


@require_GET
def account_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    require_admin(request.user)
    return _download(get_object_or_404(Account, pk=pk))
