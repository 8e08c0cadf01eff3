"""File imports: ImportJob with its progress counters and summary, and the ImportRowError rows it reports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", _("Accounts")
    CONTACTS = "contacts", _("Contacts")
    SUBSCRIPTIONS = "subscriptions", _("Subscriptions")
    EVENTS = "events", _("Usage events")
    TICKETS = "tickets", _("Tickets")
    SURVEYS = "surveys", _("Survey responses")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One bulk import of a CSV or JSON file: progress counters while it runs, a summary when it is done."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the whole job failed (unreadable file, …).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the running import.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs started (resumed after a dead worker).")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk}"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def rows_per_second(self) -> float | None:
        """Processing rate so far (or over the whole run once finished)."""
        if not self.started_at or not self.processed_rows:
            return None
        seconds = ((self.finished_at or timezone.now()) - self.started_at).total_seconds()
        return self.processed_rows / seconds if seconds > 0 else None

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)


class ImportRowError(models.Model):
    """A row an import could not take, with the reason; downloadable as a CSV error report."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(help_text="1-based data row (the CSV header is row 0).")
    message = models.TextField()
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "row_number", "id"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.message}"
