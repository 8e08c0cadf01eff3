"""Import pages: upload, progress (HTMX polling while the Celery task runs), summary and CSV error report."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.imports.runner import import_job_create
from accounts.models import ImportJob, ImportKind
from churnapp.csvsafe import csv_response

MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices)
    file = forms.FileField(help_text="CSV with a header row, a JSON array or JSON Lines (UTF-8).")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("Files up to 2 GB.")
        return upload


def _require_importer(request: HttpRequest) -> None:
    if not request.user.has_perm("accounts.add_importjob"):
        raise PermissionDenied("Only managers and admins import data.")


@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = import_job_create(
            kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], created_by=request.user
        )
        return redirect("import-detail", pk=job.pk)
    jobs = ImportJob.objects.select_related("created_by")[:50]
    return render(request, "accounts/imports.html", {"form": form, "jobs": jobs})


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
