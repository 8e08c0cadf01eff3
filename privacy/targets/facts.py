"""The accounts app's facts and tracking state: events, pending messages, aliases, survey answers, tickets, the
timeline, tasks, import reports, inbound webhooks, billing facts, saved views and bulk edits.

For an account erasure every row of the account is the subject's; for a contact, the rows of the account that
mention the person (`local_identity`). Elsewhere a row is theirs when it names their email or one of their ids, or
names them on a row that also refers to their account.
"""

from __future__ import annotations

from django.db.models import Case, Q, QuerySet, Value, When

from accounts.models import (
    Activity,
    ActivityKind,
    BillingEvent,
    BulkEdit,
    ImportJob,
    ImportRowError,
    InboundWebhookEvent,
    PendingMessage,
    SavedView,
    SupportTicket,
    SurveyResponse,
    Task,
    TrackingAlias,
    UsageEvent,
)
from privacy.matching import equals_any, mentions, refers
from privacy.subjects import ACCOUNT, Subject, erased_text
from privacy.targets._common import DELETE, Target, query_identity, user_token, value_when


def _events(subject: Subject, salt: str) -> list[Target]:
    a, ids, token = subject.account, subject.user_ids, user_token(salt)
    if subject.kind == ACCOUNT:
        user_id = Case(When(user_id="", then=Value("")), default=token)
        return [
            Target("accounts.UsageEvent", UsageEvent.objects.filter(account=a), {"user_id": user_id, "properties": {}})
        ]
    others = UsageEvent.objects.filter(account=a).exclude(user_id__in=ids)
    mentioned = mentions(identity=subject.local_identity, json_fields=("properties",))
    return [
        Target("accounts.UsageEvent", UsageEvent.objects.filter(account=a, user_id__in=ids), {
            "user_id": token, "properties": {},
        }),
        Target("accounts.UsageEvent", others.filter(mentioned), {"properties": {}}),
    ]  # fmt: skip


def _tracking(subject: Subject) -> list[Target]:
    ids, who = subject.user_ids, subject.identity
    pending = Q(user_id__in=ids) | mentions(identity=who, json_fields=("payload",))
    if subject.kind == ACCOUNT:
        pending |= Q(group_id=subject.account.external_id)
    aliases = TrackingAlias.objects.filter(Q(user_id__in=ids) | Q(previous_id__in=ids))
    return [
        Target("accounts.PendingMessage", PendingMessage.objects.filter(pending), DELETE),
        Target("accounts.TrackingAlias", aliases, DELETE),
    ]


def _account_rows(subject: Subject) -> list[Target]:
    """Rows of the account: all of them for an account erasure, those that mention the person for a contact."""
    a, local, whole = subject.account, subject.local_identity, subject.kind == ACCOUNT

    def theirs(rows: QuerySet, mentioned: Q) -> QuerySet:
        return rows if whole else rows.filter(mentioned)

    noted = mentions("subject", "body", identity=local, json_fields=("details",))
    task_mentions = mentions("title", "description", "outcome", identity=local)
    others = SurveyResponse.objects.filter(account=a).exclude(pk__in=subject.response_ids)
    return [
        Target("accounts.SurveyResponse", SurveyResponse.objects.filter(pk__in=subject.response_ids), {
            "comment": "", "external_id": "",
        }),
        Target("accounts.SurveyResponse", others.filter(mentions("comment", identity=local)), {"comment": ""}),
        Target("accounts.SupportTicket", theirs(SupportTicket.objects.filter(account=a),
                                                mentions("subject", identity=local)), {"subject": erased_text()}),
        # An account's notes, calls, emails and meetings all go; its change entries only where they name someone.
        Target("accounts.Activity", Activity.objects.filter(account=a).filter(
            ~Q(kind=ActivityKind.CHANGE) | noted if whole else noted
        ), {"subject": "", "body": "", "details": {}}),
        Target("accounts.Task", theirs(Task.objects.filter(account=a), task_mentions), {
            "title": value_when(task_mentions, erased_text(), "title") if whole else erased_text(),
            "description": "", "outcome": "",
        }),
        Target("accounts.BillingEvent", theirs(BillingEvent.objects.filter(account=a),
                                               mentions(identity=local, json_fields=("details",))), {"details": {}}),
    ]  # fmt: skip


def _reports_and_inbound(subject: Subject) -> list[Target]:
    """Import reports, inbound webhooks, saved views and bulk edits: not an account's rows, searched everywhere."""
    a, who, local, ref = subject.account, subject.identity, subject.local_identity, subject.account_ref
    reported = mentions("message", identity=who, json_fields=("raw",))
    reported |= mentions(identity=local, json_fields=("raw",)) & refers("raw", patterns=ref)
    inbound = mentions("error", identity=who, json_fields=("payload",))
    if subject.kind == ACCOUNT:
        inbound |= Q(account=a) | equals_any("customer_ref", [a.billing_customer_id])
        inbound_update = {"payload": {}, "error": "", "customer_ref": ""}
    else:
        inbound |= Q(account=a) & mentions("error", identity=local, json_fields=("payload",))
        inbound_update = {"payload": {}, "error": ""}
    on_account = refers("account_ids", patterns=(f"(?:^|[^0-9]){a.pk}(?:[^0-9]|$)",))
    edited = mentions("summary", "query", identity=query_identity(who)) | mentions(
        identity=who, json_fields=("params",)
    )
    edited |= on_account & (
        mentions("summary", "query", identity=query_identity(local)) | mentions(identity=local, json_fields=("params",))
    )
    return [
        Target("accounts.ImportRowError", ImportRowError.objects.filter(reported), {
            "raw": "", "message": erased_text(),
        }),
        Target("accounts.ImportJob", ImportJob.objects.filter(mentions("error", identity=who)), {
            "error": erased_text(),
        }),
        Target("accounts.InboundWebhookEvent", InboundWebhookEvent.objects.filter(inbound), inbound_update),
        Target("accounts.SavedView", SavedView.objects.filter(mentions("query", identity=query_identity(who))), {
            "query": "",
        }),
        Target("accounts.BulkEdit", BulkEdit.objects.filter(edited), {
            "summary": erased_text(), "query": "", "params": {},
        }),
    ]  # fmt: skip


def fact_targets(subject: Subject, salt: str) -> list[Target]:
    """The accounts app's facts and tracking state."""
    return [*_events(subject, salt), *_tracking(subject), *_account_rows(subject), *_reports_and_inbound(subject)]
