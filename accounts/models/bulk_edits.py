"""Bulk edits from the accounts list: what was asked, on which accounts, and how far the worker has got."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BulkEditStatus(models.TextChoices):
    DRAFT = "draft", _("Waiting for confirmation")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class BulkEdit(models.Model):
    """One change (set status, add a tag, enrol in a playbook…) on many accounts.

    The accounts are resolved once, when the user asks (the selected rows, or every account matching the list's
    filters), and kept in `account_ids`: the confirmation shows that count and the run changes exactly those. The
    worker walks them in chunks, each chunk and its counters in one transaction, so a dead worker resumes at
    `processed` and nothing is done twice or half-done.
    """

    action = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True, help_text="The action's value, e.g. {'value': 'at_risk'}.")
    summary = models.CharField(max_length=255, help_text="What the edit does, in words: “Set status to At risk”.")
    scope = models.CharField(max_length=16, default="selected", help_text="selected, or matching (the filters).")
    query = models.TextField(blank=True, help_text="The accounts list's filters when the edit was asked.")
    account_ids = models.JSONField(default=list, help_text="The accounts the edit may change, in the order walked.")
    not_editable_count = models.PositiveIntegerField(
        default=0, help_text="Chosen accounts the user may not edit (another CSM's): left as they are."
    )
    status = models.CharField(max_length=16, choices=BulkEditStatus.choices, default=BulkEditStatus.DRAFT)
    processed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0, help_text="Already so, or no longer editable at run time.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Queued, or the last chunk done.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs started (resumed after a dead worker).")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Bulk edit #{self.pk}: {self.summary}"

    @property
    def total(self) -> int:
        return len(self.account_ids)

    @property
    def percent(self) -> int:
        if not self.account_ids:
            return 100 if self.is_finished else 0
        return min(100, int(self.processed * 100 / len(self.account_ids)))

    @property
    def is_finished(self) -> bool:
        return self.status in (BulkEditStatus.DONE, BulkEditStatus.FAILED, BulkEditStatus.CANCELLED)
