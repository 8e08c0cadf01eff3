"""A CSM's tasks on accounts, created by hand, by rules, playbooks, journeys, surveys or win-back campaigns."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models.accounts import Account


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELED = "canceled", _("Canceled")


class TaskPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TaskSource(models.TextChoices):
    """What created a task: a person, a trigger rule that fired, a playbook step, an onboarding journey's
    milestone (due soon or missed), a dissatisfied survey answer, or a win-back campaign."""

    MANUAL = "manual", _("Manual")
    RULE = "rule", _("Rule")
    PLAYBOOK = "playbook", _("Playbook")
    JOURNEY = "journey", _("Journey")
    SURVEY = "survey", _("Survey follow-up")
    WINBACK = "winback", _("Win-back")


class Task(models.Model):
    """Work for a CSM on an account, created by hand, by a trigger rule or by a playbook."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    priority = models.CharField(max_length=16, choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    source = models.CharField(max_length=16, choices=TaskSource.choices, default=TaskSource.MANUAL)
    outcome = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "-priority"]
        indexes = [models.Index(fields=["assignee", "status", "due_date"]), models.Index(fields=["account", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def names_account(self) -> bool:
        """Whether the title already names the account (built-in rules and playbooks write "… at Ecolux Media")."""
        return self.account.name.casefold() in self.title.casefold()

    def title_with_account(self) -> str:
        """The title naming its account once, for lists of several accounts' tasks: "Call them · Ecolux Media"."""
        return self.title if self.names_account else f"{self.title} · {self.account.name}"

    def is_overdue(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.status == TaskStatus.OPEN and self.due_date is not None and self.due_date < today
