"""Journeys, trigger rules with their executions, playbooks with their enrolments, and account team roles."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _new_token() -> str:
    """Kept for migration 0001, which named it as the email token's default (email now lives in messaging)."""
    return secrets.token_urlsafe(24)


# --- Trigger rules ---------------------------------------------------------------------------------------------------


class Rule(models.Model):
    """A trigger rule as data: "when <conditions> then <actions>", evaluated by workers over all accounts.

    `conditions` is a tree: {"all": [...]} / {"any": [...]} groups of conditions ({"type": "health_below",
    "value": 70}) — see `automations.conditions.CONDITIONS`. `actions` is a list ({"type": "create_task", …}) —
    see `automations.actions.ACTIONS`. An account fires a rule at most once per `cooldown_days`, and not again
    while the task the rule created for it is still open.
    """

    key = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=False)
    conditions = models.JSONField(default=dict)
    actions = models.JSONField(default=list)
    cooldown_days = models.PositiveIntegerField(default=7)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_matched = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ExecutionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    PARTIAL = "partial", _("Some actions failed")
    FAILED = "failed", _("Failed")


class Checkpoint(models.Model):
    """How far a periodic sweep has got (e.g. the rule crossings' last tick), kept in the database so a stopped
    worker's successor takes the window up where it was left."""

    name = models.SlugField(max_length=60, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class RuleExecution(models.Model):
    """One firing of a rule for one account, with the values that matched ("why did this fire?").

    Created set-based in the cycle's first transaction (status pending), then its actions run in one
    transaction per execution. `window` (the cooldown period number) is part of a unique key so that two
    workers evaluating at once can never fire the same rule twice for an account.
    """

    # No database-level foreign keys on this high-volume log: a cold cycle inserts a row per firing account, and
    # PostgreSQL would check (and key-share lock) the account and the rule once per row at commit — most of the
    # cycle's time. Deleting a rule or an account still deletes its executions (Django's on_delete cascade).
    # No index of its own on `rule` (the (rule, created_at) and pending (rule, id) indexes start with it) nor on
    # `account` (the unique key does): every index costs each row of a cold cycle an insert.
    rule = models.ForeignKey(
        Rule, on_delete=models.CASCADE, related_name="executions", db_constraint=False, db_index=False
    )
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        related_name="rule_executions",
        db_constraint=False,
        db_index=False,
    )
    window = models.BigIntegerField()
    matched = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=ExecutionStatus.choices, default=ExecutionStatus.PENDING)
    # Nor on `task`: its constraint trigger fires for every inserted row although a new execution has no task yet.
    task = models.ForeignKey(
        "accounts.Task",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "rule", "window"], name="rule_execution_unique_window"),
        ]
        # Few indexes: a cold cycle inserts one row per firing account, into every index, and phase 2 updates each
        # row once. The unique key (account, rule, window) serves the lookups by account (deleting one); (rule,
        # created_at) covering the account the cooldown exclusion (an index-only scan on PostgreSQL), the log and
        # the lookups by rule (deleting one).
        indexes = [
            models.Index(fields=["rule", "created_at"], include=["account"], name="rule_execution_rule_created"),
            # Phase 2 picks a rule's pending executions in id order: a small partial index whatever the table's size.
            models.Index(fields=["rule", "id"], condition=Q(status="pending"), name="rule_execution_pending_rule"),
            # Only executions that created a task are looked up by it (the open-task exclusion, deleting a task):
            # the rows a cycle inserts have none yet, so the insert does not touch this index.
            models.Index(fields=["task"], condition=Q(task__isnull=False), name="rule_execution_task"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} → account {self.account_id}"


class ActionRun(models.Model):
    """The outcome of one action of an execution; failures keep their error (no silent failures)."""

    execution = models.ForeignKey(RuleExecution, on_delete=models.CASCADE, related_name="action_runs")
    index = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=32)
    ok = models.BooleanField(default=True)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["execution", "index"]
        constraints = [models.UniqueConstraint(fields=["execution", "index"], name="action_run_unique_index")]

    def __str__(self) -> str:
        return f"{self.kind} {'ok' if self.ok else 'failed'}"


# --- Playbooks -------------------------------------------------------------------------------------------------------


class Playbook(models.Model):
    """An ordered plan of steps (task, email, wait, branch) run per enrolled account.

    `holdout_percent` withholds a random share of eligible accounts (recorded as held-out enrolments) so the
    report can compare enrolled with held-out accounts: the impact the playbook caused.
    """

    key = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    trigger = models.CharField(max_length=255, blank=True, help_text=_("When to use it (documentation)."))
    owner_role = models.CharField(max_length=64, blank=True)
    metric = models.CharField(max_length=255, blank=True, help_text=_("The metric to track."))
    enabled = models.BooleanField(default=True)
    holdout_percent = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    TASK = "task", _("Task")
    EMAIL = "email", _("Email")
    WAIT = "wait", _("Wait")
    BRANCH = "branch", _("Branch")


class PlaybookStep(models.Model):
    """One step: task {title, assignee, priority, due_in_days}, email {template, to}, wait {days, until?},
    branch {condition, then, else, reason}: a branch goes to its `then` target when the condition holds for the
    enrolment, else to its `else` target — a step number, "next" or "stop" (by default then=stop, else=next: it
    stops the enrolment when the condition holds, e.g. health recovered). A wait with `until` moves on as soon as
    its condition holds, or after `days` whichever comes first."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=StepKind.choices)
    config = models.JSONField(default=dict)

    class Meta:
        ordering = ["playbook", "order"]
        constraints = [models.UniqueConstraint(fields=["playbook", "order"], name="playbook_step_unique_order")]

    def __str__(self) -> str:
        return f"{self.playbook} #{self.order} {self.kind}"


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    STOPPED = "stopped", _("Stopped")
    HELD_OUT = "held_out", _("Held out")


class Enrolment(models.Model):
    """An account going through a playbook (or held out of it, for the impact report)."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="enrolments")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="playbook_enrolments")
    status = models.CharField(max_length=16, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE)
    holdout = models.BooleanField(default=False)
    step = models.PositiveSmallIntegerField(default=0, help_text=_("Order of the next step to run."))
    next_run_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=64, blank=True)
    stop_reason = models.CharField(max_length=255, blank=True)
    baseline_health = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline_mrr = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    enrolled_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    wait_deadline = models.DateTimeField(
        null=True, blank=True, help_text=_("While it waits until a condition: when the wait ends anyway.")
    )

    class Meta:
        ordering = ["-enrolled_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "account"],
                condition=Q(status__in=["active", "held_out"]),
                name="enrolment_unique_open_per_account",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_run_at"]), models.Index(fields=["account", "status"])]

    def __str__(self) -> str:
        return f"{self.account_id} in {self.playbook}"

    @property
    def ran_orders(self) -> set[int]:
        """The steps this enrolment ran (a branch may skip some): from the prefetched step runs."""
        return {run.order for run in self.step_runs.all()}


class StepOutcome(models.TextChoices):
    """Which way a step sent the enrolment: a branch's then / else exit; a wait until a condition ended by it
    or by its timeout (or is still waiting)."""

    THEN = "then", _("then")
    ELSE = "else", _("else")
    WAITING = "waiting", _("waiting")
    CONDITION = "condition", _("condition held")
    TIMEOUT = "timeout", _("timed out")


class EnrolmentStepRun(models.Model):
    """A step an enrolment ran: the steps it ran, in order, are its path through the playbook.

    Unique per enrolment, step and visit (a loop back through a wait runs a step again, as visit 2, …), so a
    retried worker never repeats one. `outcome` is the exit a branch took or how a wait until a condition ended;
    `next_order` the step it went to (none: the enrolment stopped or completed); `task` and `email` what the step
    created (read by the enrolment's task-outcome and email-opened conditions).
    """

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="step_runs")
    order = models.PositiveSmallIntegerField()
    visit = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=16)
    ok = models.BooleanField(default=True)
    detail = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=StepOutcome.choices, blank=True)
    next_order = models.PositiveSmallIntegerField(null=True, blank=True)
    task = models.ForeignKey(
        "accounts.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    email = models.ForeignKey(
        "messaging.EmailMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False,
    )  # fmt: skip
    ran_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["enrolment", "ran_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "order", "visit"], name="enrolment_step_run_unique_visit")
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} step {self.order}"


# --- Journeys and onboarding -----------------------------------------------------------------------------------------


class Journey(models.Model):
    """Lifecycle stages and milestones (a customer journey, or an onboarding template when `onboarding`).

    An onboarding template applies to new accounts of `segment` (blank: every segment); its milestones have an
    owner role and a due offset from the account's start.
    """

    key = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    onboarding = models.BooleanField(default=False)
    segment = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Milestone(models.Model):
    """A milestone reached by a condition — {"type": "event", "event_type": …, "count": n},
    {"type": "attribute", "name": …, "at_least": x}, {"type": "active_users", "at_least": n},
    {"type": "paid"} — or manually ({"type": "manual"}). Reaching it may move the lifecycle stage."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="milestones")
    key = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)
    condition = models.JSONField(default=dict)
    stage = models.CharField(max_length=32, blank=True, help_text=_("Lifecycle stage set when reached."))
    owner_role = models.CharField(max_length=64, blank=True)
    due_days = models.PositiveIntegerField(null=True, blank=True, help_text=_("Due this many days after the start."))
    first_value = models.BooleanField(default=False, help_text=_("Reaching it is the account's first value."))

    class Meta:
        ordering = ["journey", "order"]
        constraints = [models.UniqueConstraint(fields=["journey", "key"], name="milestone_unique_key")]

    def __str__(self) -> str:
        return self.name


class MilestoneProgress(models.Model):
    """An account's progress on one milestone: started, due, reached or missed."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="milestone_progress")
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="progress")
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    reached_at = models.DateTimeField(null=True, blank=True)
    missed_at = models.DateTimeField(null=True, blank=True)
    reached_manually_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_task = models.ForeignKey(
        "accounts.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The reminder given to the milestone's owner role when it fell due soon."),
    )  # fmt: skip
    missed_task = models.ForeignKey(
        "accounts.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The task given to the milestone's owner role when it was missed."),
    )  # fmt: skip

    class Meta:
        ordering = ["milestone__order"]
        constraints = [
            models.UniqueConstraint(fields=["account", "milestone"], name="milestone_progress_unique"),
        ]
        indexes = [models.Index(fields=["milestone", "reached_at"]), models.Index(fields=["missed_at"])]

    def __str__(self) -> str:
        return f"{self.account_id} · {self.milestone}"


class AccountRole(models.Model):
    """Who holds a working role for an account (its account team): e.g. the implementation specialist.

    Onboarding milestones name an owner role; their due and missed tasks go to the holder of that role for the
    account, or to the account owner when nobody holds it.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="role_holders")
    role = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_roles")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["account", "role"]
        constraints = [models.UniqueConstraint(fields=["account", "role"], name="account_role_unique")]

    def __str__(self) -> str:
        return f"{self.role} of {self.account_id}: {self.user}"
