"""Survey state that is not a fact: schedules, tokenised invitations and the follow-up of each answer.

The answers themselves are `accounts.SurveyResponse` rows (facts live in accounts).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from churnapp.slugs import free_slug


class SurveyTrigger(models.TextChoices):
    DAYS_AFTER_START = "days_after_start", _("N days after the customer started")
    DAYS_BEFORE_RENEWAL = "days_before_renewal", _("N days before renewal")
    TICKET_RESOLVED = "ticket_resolved", _("After a ticket is resolved")
    SEGMENT_ENTRY = "segment_entry", _("On entering a segment")


class IssueType(models.TextChoices):
    """What a dissatisfied answer is about: asked on the survey page or derived from the comment's theme."""

    PRODUCT = "product", _("Product or bug")
    BILLING = "billing", _("Billing or price")
    SUPPORT = "support", _("Support")
    ONBOARDING = "onboarding", _("Onboarding")
    MISSING_FEATURE = "missing_feature", _("Missing feature")
    OTHER = "other", _("Something else")


class IssueRoute(models.Model):
    """Who follows up a dissatisfied answer of one issue type, and by when.

    The task goes to `assignee` when set (and active), else to the member of `role` with the fewest open tasks,
    else to the account owner. It is due `sla_days` after the answer; past that an overdue reminder goes out.
    """

    issue_type = models.CharField(max_length=32, choices=IssueType.choices, unique=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=32, blank=True, help_text="A role (group) name, e.g. Manager or CSM.")
    sla_days = models.PositiveSmallIntegerField(default=2)

    class Meta:
        ordering = ["issue_type"]

    def __str__(self) -> str:
        return f"{self.get_issue_type_display()} → {self.assignee or self.role or 'account owner'}"


class SurveySchedule(models.Model):
    """When to ask whom: a lifecycle moment, a sample rate and how long links stay valid."""

    key = models.SlugField(max_length=100, unique=True, help_text="Stable identifier (configuration bundle, API).")
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=8, choices=[("nps", "NPS"), ("csat", "CSAT")])
    trigger = models.CharField(max_length=32, choices=SurveyTrigger.choices)
    offset_days = models.PositiveSmallIntegerField(default=0, help_text="N for the 'N days' triggers.")
    segment = models.CharField(max_length=32, blank=True, help_text="For segment entry: the account segment.")
    sample_rate = models.FloatField(default=1.0, help_text="Share of eligible contacts asked (0–1).")
    expires_after_days = models.PositiveSmallIntegerField(default=14)
    reminder_after_days = models.PositiveSmallIntegerField(default=3, help_text="0 = no reminder.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(sample_rate__gte=0, sample_rate__lte=1), name="survey_sample_rate_0_1")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.key:
            self.key = free_slug(SurveySchedule.objects.exclude(pk=self.pk), self.name, fallback="survey")
        super().save(*args, **kwargs)


class SegmentStay(models.Model):
    """An account's stay in a segment, recorded by the segment history sync (for "on entering a segment" surveys).

    `entered_on` is the day the sync saw the account in the segment for the first time; empty when it was there
    before the history began (the first sync), which is no entry. `left_on` is set when the account moved on.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="segment_stays")
    segment = models.CharField(max_length=32)
    entered_on = models.DateField(null=True, blank=True)
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["account", "-id"]
        indexes = [models.Index(fields=["segment", "entered_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(left_on__isnull=True), name="segment_stay_one_open_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.segment} from {self.entered_on or 'before history'} to {self.left_on or 'now'}"


class SurveyInvitation(models.Model):
    """One ask to one contact, carrying the single-use token of the public response link.

    `trigger_key` names the moment (e.g. "ticket:42", "renewal:2026-12-01") so a schedule asks a contact once per
    moment. The token answers once (`response` set) and not after `expires_at`.
    """

    schedule = models.ForeignKey(SurveySchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="survey_invitations")
    contact = models.ForeignKey("accounts.Contact", on_delete=models.CASCADE, related_name="survey_invitations")
    kind = models.CharField(max_length=8, choices=[("nps", "NPS"), ("csat", "CSAT")])
    token = models.CharField(max_length=64, unique=True)
    trigger_key = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    response = models.OneToOneField(
        "accounts.SurveyResponse", null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=32, blank=True, help_text="Status of the invitation email.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "contact", "trigger_key"],
                condition=~Q(trigger_key=""),
                name="survey_invitation_once_per_moment",
            )
        ]
        indexes = [models.Index(fields=["contact", "created_at"]), models.Index(fields=["responded_at", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.kind} survey for {self.contact}"

    def is_open(self, now=None) -> bool:
        """The link still takes an answer: not answered yet and not expired."""
        now = now or timezone.now()
        return self.responded_at is None and self.expires_at > now


class ResponseFollowUp(models.Model):
    """What happened after an answer: its routing (task, SLA) and whether someone closed the loop."""

    response = models.OneToOneField("accounts.SurveyResponse", on_delete=models.CASCADE, related_name="follow_up")
    category = models.CharField(max_length=16)
    issue_type = models.CharField(max_length=32, choices=IssueType.choices, blank=True)
    issue_type_source = models.CharField(
        max_length=16, blank=True, help_text="asked (on the survey page) or theme (from the comment)."
    )
    task = models.ForeignKey("accounts.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sla_due_on = models.DateField(null=True, blank=True)
    overdue_reminded_at = models.DateTimeField(null=True, blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["category", "followed_up_at"])]

    def __str__(self) -> str:
        return f"{self.category} follow-up of {self.response_id}"

    @property
    def within_sla(self) -> bool | None:
        """True when followed up by the SLA date, False when late or overdue, None when no SLA applies."""
        if self.sla_due_on is None:
            return None
        if self.followed_up_at is None:
            return None if timezone.localdate() <= self.sla_due_on else False
        return self.followed_up_at.date() <= self.sla_due_on
