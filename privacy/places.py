"""Every place personal data lives, what an erasure does there, and what it keeps: the list the confirmation page
shows, the export names and the closing note of issue #21 quotes (`PERSONAL_DATA_PLACES`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Place:
    key: str  # app_label.Model (or a file: accounts.ImportJob.file)
    fields: tuple[str, ...]
    erasure: Promise  # what the erasure does


PERSONAL_DATA_PLACES: list[Place] = [
    Place(
        "accounts.Contact",
        ("email", "name", "title", "user_id", "external_id", "traits"),
        _(
            "The row stays as an anonymous “Erased contact” (survey de-duplication, invitations and the outbox point "
            "at it) with every personal field emptied and email switched off; other contacts' traits that mention "
            "them are emptied."
        ),
    ),
    Place(
        "accounts.Account",
        ("name", "domain", "external_id", "billing_customer_id", "custom_attributes"),
        _(
            "Account erasure: renamed “Erased account <id>”, domain and billing id emptied, external id replaced, "
            "custom attributes removed; segment, plan, status, stage, owner, tags and MRR stay. Contact erasure: "
            "custom attributes that mention the person are removed."
        ),
    ),
    Place(
        "accounts.UsageEvent",
        ("user_id", "properties"),
        _(
            "The user id becomes a one-way token (the same for all of that user's events, so distinct users still "
            "count the same) and the properties are emptied; type, time, account and message id stay."
        ),
    ),
    Place(
        "accounts.PendingMessage", ("user_id", "group_id", "payload"), _("Tracking messages still waiting are deleted.")
    ),
    Place("accounts.TrackingAlias", ("previous_id", "user_id"), _("Their aliases are deleted.")),
    Place(
        "accounts.SurveyResponse",
        ("comment", "external_id"),
        _("Comment and survey-tool id are emptied; score, kind, time and the link to the anonymous contact stay."),
    ),
    Place("accounts.SupportTicket", ("subject",), _("The subject is replaced; status, priority and dates stay.")),
    Place("accounts.Activity", ("subject", "body", "details"), _("Notes, calls, emails and meetings are emptied.")),
    Place("accounts.Task", ("title", "description", "outcome"), _("The texts are emptied; status and dates stay.")),
    Place("accounts.ImportRowError", ("raw", "message"), _("Reported rows are emptied.")),
    Place("accounts.ImportJob", ("error",), _("An error text that names them is replaced.")),
    Place(
        "accounts.ImportJob.file",
        ("file",),
        _("Uploaded files are rewritten on disk without the rows about them; the import's counts stay."),
    ),
    Place(
        "accounts.InboundWebhookEvent",
        ("payload", "customer_ref", "error"),
        _("Billing and helpdesk payloads are emptied; event id, type and status stay."),
    ),
    Place("accounts.BillingEvent", ("details",), _("Details are emptied; kind, amount and time stay.")),
    Place("accounts.SavedView", ("query",), _("A saved query that names them is emptied.")),
    Place("accounts.BulkEdit", ("summary", "query"), _("A bulk edit's texts that name them are replaced.")),
    Place(
        "messaging.EmailMessage",
        ("to_email", "subject", "body_text", "body_html", "status_reason"),
        _("Address, subject and bodies are removed; status, dates, opens and clicks stay. Unsent mail is suppressed."),
    ),
    Place(
        "messaging.Suppression",
        ("email",),
        _("The address is emptied; its digest stays, so the address is never emailed again."),
    ),
    Place("messaging.Notification", ("title", "body"), _("Notifications about them are emptied.")),
    Place("messaging.WebhookDelivery", ("payload", "error"), _("Payloads sent to webhooks are emptied.")),
    Place("automations.RuleExecution", ("matched",), _("The values that matched are emptied.")),
    Place("automations.ActionRun", ("detail",), _("Action logs that name them are replaced.")),
    Place("automations.EnrolmentStepRun", ("detail",), _("Playbook step logs that name them are replaced.")),
    Place("winback.Touchpoint", ("label", "status_reason"), _("Touchpoint texts that name them are replaced.")),
    Place("winback.ChurnRecord", ("comment",), _("The comment is emptied; type, reason, competitor and MRR stay.")),
    Place("winback.WinbackSuppression", ("reason",), _("The reason is emptied; the account is still not contacted.")),
    Place("winback.ResponseFollowUp", ("note",), _("Follow-up notes are emptied.")),
    Place(
        "winback.SurveyInvitation", ("expires_at",), _("Open survey links expire now; sent and answered dates stay.")
    ),
    Place("health.CsmSentiment", ("comment",), _("The comment is emptied; the rating stays.")),
    Place("admin.LogEntry", ("object_repr", "change_message"), _("Django admin log entries keep who and when only.")),
    Place("audit.AuditEntry", ("changes", "object_label"), _("Audit entries keep who, when and what kind only.")),
]

FILES = "accounts.ImportJob.file"
PLACE_KEYS = [place.key for place in PERSONAL_DATA_PLACES]

# What stays, and why: the figures every KPI reads.
KEPT = [
    _("Subscriptions with their MRR history, dates, status and cancellation reason code."),
    _("Counts and dates of events, tickets, survey answers (with their scores), emails, tasks and notes."),
    _("Health snapshots, usage rollups, metrics and KPI facts: numbers per account, segment and plan."),
    _("Survey invitations (their links expire), campaign enrolments and reminders: they hold ids and dates only."),
    _("Account teams (churnapp users, not the customer's people) and the account's tags."),
]
