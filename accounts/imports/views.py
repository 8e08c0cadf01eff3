"""Import pages: upload, progress (HTMX polling while the Celery task runs), summary and CSV error report."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from accounts.imports.runner import import_job_create
from accounts.models import ImportJob, ImportKind
from accounts.selectors import import_jobs_recent
from churnapp.csvsafe import csv_response

ENVELOPE_BYTES = 64 * 1024  # the multipart fields and headers around the file


def max_upload_bytes() -> int:
    return settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024


def _too_large_message() -> str:
    return _("Files up to %(mb)s MB: split larger files, or use `manage.py import_data`.") % {
        "mb": settings.IMPORT_MAX_UPLOAD_MB
    }


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices)
    file = forms.FileField(help_text=gettext_lazy("CSV with a header row, a JSON array or JSON Lines (UTF-8)."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            str(self.fields["file"].help_text) + " " + _("Up to %(mb)s MB.") % {"mb": settings.IMPORT_MAX_UPLOAD_MB}
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(_too_large_message())
        return upload


def _require_importer(request: HttpRequest) -> None:
    if not request.user.has_perm("accounts.add_importjob"):
        raise PermissionDenied(_("Only managers and admins import data."))


def _too_large(request: HttpRequest) -> bool:
    request.FILES  # noqa: B018 - parses the body through the upload handlers
    return request.upload_too_large


def _declared_size(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class UploadLimitHandler(FileUploadHandler):
    """Stops reading a multipart upload once its files pass the import size limit, so an oversized upload never
    fills the disk; the view then answers with the form's size error."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_upload_bytes():
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _refuse_too_large(request: HttpRequest) -> HttpResponse:
    form = ImportForm()
    form.cleaned_data = {}  # an empty form that shows the size error beside the file field
    form.add_error("file", _too_large_message())
    jobs = import_jobs_recent()
    return render(
        request,
        "accounts/imports.html",
        {"form": form, "jobs": jobs, "max_upload_mb": settings.IMPORT_MAX_UPLOAD_MB},
        status=413,
    )


@csrf_exempt  # the upload handlers must be set before anything reads the body; CSRF is checked just below
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    if request.method == "POST" and _declared_size(request) > max_upload_bytes() + ENVELOPE_BYTES:
        return _refuse_too_large(request)  # refused before the body is read (and changes nothing)
    request.upload_too_large = False
    request.upload_handlers.insert(0, UploadLimitHandler(request))
    return _import_list(request)


@csrf_protect
def _import_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and _too_large(request):
        return _refuse_too_large(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = import_job_create(
            kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], created_by=request.user
        )
        return redirect("import-detail", pk=job.pk)
    jobs = import_jobs_recent()
    return render(
        request, "accounts/imports.html", {"form": form, "jobs": jobs, "max_upload_mb": settings.IMPORT_MAX_UPLOAD_MB}
    )


@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_importer(request)
    job = get_object_or_404(ImportJob, pk=pk)
    template = "accounts/import_detail.html#import-progress" if request.htmx else "accounts/import_detail.html"
    return render(request, template, {"job": job, "errors": job.row_errors.all()[:20]})


@require_GET
def import_errors_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    _require_importer(request)
    job = get_object_or_404(ImportJob, pk=pk)
    rows = job.row_errors.values_list("row_number", "message", "raw").iterator()
    return csv_response(filename=f"import-{job.pk}-errors.csv", header=["row", "error", "data"], rows=rows)
