"""Facts about customers: accounts, their people, subscriptions, usage, support, surveys and the CSM's work."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"


class LifecycleStage(models.TextChoices):
    TRIAL = "trial", "Trial"
    ONBOARDING = "onboarding", "Onboarding"
    ADOPTED = "adopted", "Adopted"
    RENEWAL = "renewal", "Renewal"
    ADVOCATE = "advocate", "Advocate"
    AT_RISK = "at_risk", "At risk"
    CHURNED = "churned", "Churned"


class AccountStatus(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVE = "active", "Active"
    AT_RISK = "at_risk", "At risk"
    CHURNED = "churned", "Churned"
    WON_BACK = "won_back", "Won back"


class HealthBand(models.TextChoices):
    GREEN = "green", "Green"
    YELLOW = "yellow", "Yellow"
    RED = "red", "Red"


class Tag(models.Model):
    """A label a CSM or a rule puts on accounts ("champion-left", "upsell")."""

    name = models.SlugField(max_length=64, unique=True)
    color = models.CharField(max_length=16, default="slate")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """A customer company.

    The fields below `custom_attributes` are derived state kept here so that lists can filter and
    sort on them: `mrr`, `seats` and `renewal_date` by the accounts snapshot task, health and churn
    probability by the health app (through `accounts.services`).
    """

    external_id = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_accounts"
    )
    segment = models.CharField(max_length=32, choices=Segment.choices, default=Segment.SMB)
    tier = models.CharField(max_length=32, blank=True)
    plan = models.CharField(max_length=64, blank=True)
    lifecycle_stage = models.CharField(max_length=32, choices=LifecycleStage.choices, default=LifecycleStage.ONBOARDING)
    status = models.CharField(max_length=32, choices=AccountStatus.choices, default=AccountStatus.ONBOARDING)
    renewal_date = models.DateField(null=True, blank=True)
    custom_attributes = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="accounts")

    mrr = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    seats = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    health_score = models.PositiveSmallIntegerField(null=True, blank=True)
    health_band = models.CharField(max_length=16, choices=HealthBand.choices, blank=True)
    health_trend = models.SmallIntegerField(null=True, blank=True, help_text="Score now minus score 30 days ago.")
    health_scored_at = models.DateTimeField(null=True, blank=True, help_text="When the cached score was computed.")
    churn_probability = models.FloatField(null=True, blank=True)
    billing_customer_id = models.CharField(
        max_length=128, blank=True, db_index=True, help_text="The account's customer id in billing (Stripe cus_…)."
    )
    payment_failed_at = models.DateTimeField(
        null=True, blank=True, help_text="Last failed payment not yet followed by a paid invoice."
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["status", "renewal_date"]),
            models.Index(fields=["-mrr"]),
            # The moments time-based rule conditions cross ("no login for 10 days", "payment failed in 3 days",
            # never seen since sign-up): one range scan per rule crossing tick (automations.crossings).
            models.Index(fields=["last_seen_at"]),
            models.Index(fields=["payment_failed_at"]),
            models.Index(fields=["created_at"]),
        ]
        permissions = [("assign_owner", "Can reassign accounts to another owner")]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person at a customer account; `user_id` is their id in the product (usage events)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(max_length=128, blank=True)
    user_id = models.CharField(max_length=128, blank=True, db_index=True)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255, blank=True)
    is_primary = models.BooleanField(default=False)
    unsubscribed = models.BooleanField(default=False)
    traits = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "email"], condition=~Q(email=""), name="contact_unique_email_per_account"
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="contact_unique_external_id"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.user_id


class BillingPeriod(models.IntegerChoices):
    MONTHLY = 1, "Monthly"
    QUARTERLY = 3, "Quarterly"
    SEMIANNUAL = 6, "Semiannual"
    ANNUAL = 12, "Annual"


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    PAUSED = "paused", "Paused"
    CANCELED = "canceled", "Canceled"


class Subscription(models.Model):
    """One subscribed product for a term: [start_date, end_date), end_date null while open.

    An account may hold several at once (plan plus add-ons) and consecutive ones for consecutive terms.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="subscriptions")
    external_id = models.CharField(max_length=128, blank=True)
    product = models.CharField(max_length=128)
    mrr = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(default=1)
    units = models.CharField(max_length=32, blank=True, default="seats")
    billing_period = models.PositiveSmallIntegerField(choices=BillingPeriod.choices, default=BillingPeriod.MONTHLY)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Exclusive; empty while the subscription is open.")
    status = models.CharField(max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE)
    cancellation_reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start_date"]
        indexes = [models.Index(fields=["account", "start_date"]), models.Index(fields=["start_date", "end_date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="subscription_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=models.F("start_date")),
                name="subscription_end_after_start",
            ),
            models.CheckConstraint(condition=Q(mrr__gte=0), name="subscription_mrr_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.start_date}–{self.end_date or 'open'})"

    def is_active_on(self, day: dt.date) -> bool:
        """Active at `day` when it has started and not yet ended (end_date is exclusive)."""
        return self.start_date <= day and (self.end_date is None or self.end_date > day)


class UsageEvent(models.Model):
    """One product-usage event (append-only). `message_id` de-duplicates retries and re-imports."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage_events")
    user_id = models.CharField(max_length=128, blank=True)
    event_type = models.CharField(max_length=128)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=128, unique=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["account", "occurred_at"]),
            models.Index(fields=["event_type", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class SupportTicket(models.Model):
    """A helpdesk ticket raised by the account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tickets")
    external_id = models.CharField(max_length=128, unique=True)
    subject = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    priority = models.CharField(max_length=16, choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["account", "opened_at"]), models.Index(fields=["status", "opened_at"])]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.status in (TicketStatus.OPEN, TicketStatus.PENDING)


class SurveyKind(models.TextChoices):
    NPS = "nps", "NPS"
    CSAT = "csat", "CSAT"


class SurveyResponse(models.Model):
    """An NPS (0–10) or CSAT (1–5) answer from a contact."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="survey_responses")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses")
    external_id = models.CharField(max_length=128, blank=True, help_text="Id in the survey tool, for upserts.")
    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    responded_at = models.DateTimeField()

    class Meta:
        ordering = ["-responded_at"]
        indexes = [models.Index(fields=["account", "responded_at"]), models.Index(fields=["kind", "responded_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="nps", score__lte=10) | Q(kind="csat", score__gte=1, score__lte=5)),
                name="survey_score_in_range",
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="survey_response_unique_external_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.score}"

    @property
    def category(self) -> str:
        """promoter / passive / detractor for NPS; satisfied / neutral / dissatisfied for CSAT."""
        if self.kind == SurveyKind.NPS:
            return "promoter" if self.score >= 9 else "passive" if self.score >= 7 else "detractor"
        return "satisfied" if self.score >= 4 else "neutral" if self.score == 3 else "dissatisfied"


class ActivityKind(models.TextChoices):
    NOTE = "note", "Note"
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    CHANGE = "change", "Change"


class Activity(models.Model):
    """An entry of the account timeline: a note, call, email or meeting, or an audited change."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=16, choices=ActivityKind.choices, default=ActivityKind.NOTE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="For changes: field, old and new value.")
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "occurred_at"])]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELED = "canceled", "Canceled"


class TaskPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class TaskSource(models.TextChoices):
    """What created a task: a person, a trigger rule that fired, a playbook step, an onboarding journey's
    milestone (due soon or missed), a dissatisfied survey answer, or a win-back campaign."""

    MANUAL = "manual", "Manual"
    RULE = "rule", "Rule"
    PLAYBOOK = "playbook", "Playbook"
    JOURNEY = "journey", "Journey"
    SURVEY = "survey", "Survey follow-up"
    WINBACK = "winback", "Win-back"


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


class SavedView(models.Model):
    """A named accounts-list query ("At risk", "Renewing in 60 days"), private or shared with the team."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    query = models.CharField(max_length=1000, help_text="The accounts-list query string.")
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name_per_owner")]

    def __str__(self) -> str:
        return self.name


# --- Data in: tracking, imports, inbound webhooks (issue 3) -------------------------------------------------------


class PendingMessage(models.Model):
    """A tracking message (track/page/screen/identify) whose account is not known yet.

    Nothing is dropped: the message waits here, keyed by its user and group ids, and is replayed through the
    tracking pipeline as soon as a `group` call, an import or the API makes its account known.
    """

    message_id = models.CharField(max_length=128, unique=True)
    type = models.CharField(max_length=16)
    user_id = models.CharField(max_length=128, blank=True, db_index=True)
    group_id = models.CharField(max_length=128, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class TrackingAlias(models.Model):
    """A Segment `alias`: `previous_id` (an anonymous or former user id) is the same person as `user_id`, so
    messages sent under the previous id find that user's contact and account."""

    previous_id = models.CharField(max_length=128, unique=True)
    user_id = models.CharField(max_length=128, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.previous_id} → {self.user_id}"


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"
    SUBSCRIPTIONS = "subscriptions", "Subscriptions"
    EVENTS = "events", "Usage events"
    TICKETS = "tickets", "Tickets"
    SURVEYS = "surveys", "Survey responses"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


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


class InboundWebhookStatus(models.TextChoices):
    PROCESSED = "processed", "Processed"
    UNMATCHED = "unmatched", "Unmatched (account unknown)"
    IGNORED = "ignored", "Ignored (event type not used)"
    FAILED = "failed", "Failed"


class InboundWebhookEvent(models.Model):
    """One webhook delivery from billing (Stripe) or a helpdesk, kept for idempotency, audit and later matching."""

    source = models.CharField(max_length=16)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=128)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=InboundWebhookStatus.choices)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    customer_ref = models.CharField(max_length=255, blank=True, db_index=True, help_text="Billing customer id.")
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "event_id"], name="inbound_webhook_unique_event")]

    def __str__(self) -> str:
        return f"{self.source} {self.type} {self.event_id}"


class BillingEventKind(models.TextChoices):
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    PAYMENT_SUCCEEDED = "payment_succeeded", "Payment succeeded"
    CARD_EXPIRING = "card_expiring", "Card expiring"


class BillingEvent(models.Model):
    """A payment fact about an account from the billing system (failed or paid invoice, expiring card)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="billing_events")
    kind = models.CharField(max_length=32, choices=BillingEventKind.choices)
    occurred_at = models.DateTimeField()
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=8, blank=True)
    details = models.JSONField(default=dict, blank=True)
    source_event_id = models.CharField(max_length=255, unique=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.occurred_at:%Y-%m-%d}"
