"""Markers planted in every place personal data can reach, for the erasure and export tests.

`plant(subject_account, contact)` writes the person's markers (and, when the whole account is the subject, the
company's) into each place: through the product's own writers where they are cheap to call (tracking ingest, the
outbox, outgoing webhooks, the import runner), directly otherwise. A bystander account holds look-alike data that
must survive every erasure.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import quote, quote_plus

from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.base import ContentFile
from django.db import models
from django.utils import timezone

from accounts.imports.runner import import_job_create, import_run
from accounts.models import (
    Account,
    Activity,
    ActivityKind,
    BillingEvent,
    BulkEdit,
    ImportJob,
    ImportRowError,
    ImportStatus,
    InboundWebhookEvent,
    PendingMessage,
    SavedView,
    TrackingAlias,
    UsageEvent,
)
from accounts.tracking.ingest import tracking_ingest
from automations.models import ActionRun, Enrolment, EnrolmentStepRun, Playbook, Rule, RuleExecution
from health.models import CsmSentiment
from messaging.email.outbox import email_queue
from messaging.models import EmailMessage, Notification, Suppression, WebhookDelivery, WebhookEndpoint
from messaging.webhooks import webhook_emit
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    SupportTicketFactory,
    SurveyResponseFactory,
    TaskFactory,
    UserFactory,
)
from tests.winback.factories import SurveyInvitationFactory
from winback.models import ChurnRecord, ChurnSource, ResponseFollowUp, Touchpoint, WinbackSuppression

EMAIL = "zq-marker-7731@example.test"
NAME = "Zqmarker Quillfeather"
USER_ID = "zq-user-7731"
ANON_ID = "zq-anon-7731"
CRM_ID = "zq-crm-7731"
TITLE = "zq-title-7731"
PHONE = "zq-phone-7731"
SURVEY_ID = "zq-survey-7731"
PERSON_MARKERS = [EMAIL, NAME, USER_ID, ANON_ID, CRM_ID, TITLE, PHONE, SURVEY_ID]

COMPANY = "Zqcompany Ltd"
DOMAIN = "zqcompany-7731.example"
ACCOUNT_ID = "zq-acc-7731"
BILLING_ID = "cus_zq7731"
ATTRIBUTE = "zq-attribute-7731"
TICKET = "zq-ticket-7731"
CHURN_NOTE = "zq-churn-note-7731"
COMPANY_MARKERS = [COMPANY, DOMAIN, ACCOUNT_ID, BILLING_ID, ATTRIBUTE, TICKET, CHURN_NOTE]

# Look-alikes that must survive: a longer email, a longer name, another person.
BYSTANDER_EMAIL = "xzq-marker-7731@example.test"
BYSTANDER_NAME = "Zqmarker Quillfeathers"
BYSTANDER_USER = "zq-user-77310"
BYSTANDER_TEXT = f"{BYSTANDER_NAME} met bystander@example.test"
# The scans look past these (they contain the markers on purpose).
BYSTANDER = [BYSTANDER_EMAIL, BYSTANDER_NAME, BYSTANDER_USER, "zq-acc-77310"]


def _at(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def _track(messages: list[dict]) -> None:
    tracking_ingest(messages=messages)


def _import(kind: str, name: str, content: str):
    job = import_job_create(kind=kind, upload=ContentFile(content.encode(), name=name))
    return import_run(job=job)


def plant_company(account: Account) -> None:
    """The company's own identifiers, for an account erasure."""
    Account.objects.filter(pk=account.pk).update(
        name=COMPANY, domain=DOMAIN, external_id=ACCOUNT_ID, billing_customer_id=BILLING_ID,
        custom_attributes={"segment_note": ATTRIBUTE},
    )  # fmt: skip
    account.refresh_from_db()
    SupportTicketFactory(account=account, subject=f"Export broken {TICKET}")
    ChurnRecord.objects.create(
        account=account, comment=CHURN_NOTE, churned_on=timezone.localdate(), source=ChurnSource.FORM
    )
    InboundWebhookEvent.objects.create(
        source="stripe", event_id="evt_zq_1", type="invoice.paid", status="processed", account=account,
        customer_ref=BILLING_ID, payload={"data": {"object": {"customer": BILLING_ID, "customer_name": COMPANY}}},
    )  # fmt: skip
    BillingEvent.objects.create(
        account=account, kind="payment_failed", occurred_at=_at(3), source_event_id="evt_zq_2",
        details={"invoice": "in_1", "customer": BILLING_ID},
    )  # fmt: skip
    _import("subscriptions", "subs.csv", f"account_id,product,start_date,mrr\n{ACCOUNT_ID},addon,2024-01-01,10\n")


def plant_person(account: Account, *, csm) -> dict:
    """One person at `account` and their data everywhere; returns the objects the tests look at."""
    _track([
        {"type": "group", "userId": USER_ID, "groupId": account.external_id, "messageId": "zq-m-1"},
        {"type": "identify", "userId": USER_ID, "messageId": "zq-m-2",
         "traits": {"email": EMAIL, "name": NAME, "title": TITLE, "phone": PHONE}},
        {"type": "track", "userId": USER_ID, "event": "Report Exported", "messageId": "zq-m-3",
         "properties": {"recipient": EMAIL, "pages": 3}, "timestamp": _at(2).isoformat()},
        {"type": "track", "userId": USER_ID, "event": "Signed In", "messageId": "zq-m-4",
         "timestamp": _at(1).isoformat()},
        {"type": "alias", "previousId": ANON_ID, "userId": USER_ID, "messageId": "zq-m-5"},
        {"type": "track", "userId": ANON_ID, "event": "Signed In", "messageId": "zq-m-6",
         "timestamp": _at(1).isoformat()},
        # A message still waiting for its account.
        {"type": "track", "userId": USER_ID, "event": "Signed In", "context": {"groupId": "zq-unknown-group"},
         "messageId": "zq-m-7", "properties": {"email": EMAIL}},
    ])  # fmt: skip
    contact = account.contacts.get(user_id=USER_ID)
    contact.external_id = CRM_ID
    contact.save()
    colleague = ContactFactory(account=account, name="Pat Colleague", traits={"manager": EMAIL})
    UsageEvent.objects.create(
        account=account, user_id=colleague.user_id, event_type="invite_sent", occurred_at=_at(2),
        message_id="zq-m-8", properties={"invited": EMAIL},
    )  # fmt: skip
    account.refresh_from_db()
    attributes = {**account.custom_attributes, "champion": NAME, "tier_note": "gold"}
    Account.objects.filter(pk=account.pk).update(custom_attributes=attributes)
    response = SurveyResponseFactory(
        account=account, contact=contact, score=3, comment=f"Ask {NAME}: too slow", external_id=SURVEY_ID
    )
    SurveyResponseFactory(account=account, contact=colleague, score=9, comment=f"{NAME} helped a lot")
    SupportTicketFactory(account=account, subject=f"Login fails for {EMAIL}")
    ActivityFactory(account=account, subject=f"Lunch with {NAME}", body="Renewal looks fine.")
    ActivityFactory(account=account, kind=ActivityKind.CALL, body=f"Called {EMAIL}")
    Activity.objects.create(
        account=account, kind=ActivityKind.CHANGE, subject=f"Attribute champion changed from — to {NAME}",
        details={"field": "attribute champion", "old": "", "new": NAME},
    )  # fmt: skip
    task = TaskFactory(account=account, title=f"Call {NAME}", description=f"Their email: {EMAIL}", outcome="")
    _import(
        "contacts",
        "contacts.csv",
        "account_id,email,name,title,user_id,contact_id\n"
        f"{account.external_id},{EMAIL},{NAME},{TITLE},{USER_ID},{CRM_ID}\n"
        f"{account.external_id},not-an-email-{PHONE},{NAME},,,\n"
        f"{account.external_id},other@example.test,Other Person,,,\n",
    )
    _import(
        "surveys",
        "surveys.json",
        json.dumps(
            [
                {
                    "account_id": account.external_id,
                    "contact_email": EMAIL,
                    "kind": "nps",
                    "score": 3,
                    "comment": "slow",
                    "responded_at": _at(5).isoformat(),
                },
                {
                    "account_id": "zq-no-such-account",
                    "contact_email": EMAIL,
                    "kind": "nps",
                    "score": 11,
                    "comment": "",
                    "responded_at": _at(5).isoformat(),
                },
                {
                    "account_id": account.external_id,
                    "contact_email": "other@example.test",
                    "kind": "nps",
                    "score": 8,
                    "comment": "ok",
                    "responded_at": _at(5).isoformat(),
                },
            ]
        ),  # fmt: skip
    )
    InboundWebhookEvent.objects.create(
        source="helpdesk", event_id="zq-hd-1", type="ticket.created", status="unmatched",
        payload={"ticket": {"requester": {"email": EMAIL, "name": NAME}}},
    )  # fmt: skip
    BillingEvent.objects.create(
        account=account, kind="card_expiring", occurred_at=_at(4), source_event_id="zq-evt-3",
        details={"billing_email": EMAIL},
    )  # fmt: skip
    SavedView.objects.create(owner=csm, name="Zq search", query=f"q={quote(EMAIL)}")
    BulkEdit.objects.create(
        action="attribute", params={"value": NAME}, summary=f"Set attribute champion to {NAME}",
        query=f"q={quote_plus(NAME)}", account_ids=[account.pk], created_by=csm,
    )  # fmt: skip
    email_queue(
        to_email=EMAIL, subject=f"Hi {NAME}", body_text=f"Dear {NAME}", body_html=f"<p>Dear {NAME}</p>",
        account=account, contact=contact, source="manual", respect_frequency_cap=False,
    )  # fmt: skip
    EmailMessage.objects.create(to_email=EMAIL.upper(), subject="Survey", body_text="Tell us", status="sent")
    Suppression.objects.create(email=EMAIL, reason="unsubscribed")
    Notification.objects.create(user=csm, account=account, title=f"{NAME} answered 3", body=f"Reach {EMAIL}")
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example/zq", events=["task.created"], secret="s")
    webhook_emit(
        event="task.created", payload={"title": f"Call {NAME}", "account_id": account.pk}, endpoints=[endpoint]
    )
    WebhookDelivery.objects.create(endpoint=endpoint, event="ping", payload={"ping": True}, error=f"{EMAIL} refused")
    rule = Rule.objects.create(key="zq-rule", name="Zq rule")
    execution = RuleExecution.objects.create(rule=rule, account=account, window=1, matched={"contact": EMAIL})
    ActionRun.objects.create(execution=execution, index=0, kind="send_email", detail=f"Email “Hi” to {EMAIL}: sent")
    playbook = Playbook.objects.create(key="zq-playbook", name="Zq playbook")
    enrolment = Enrolment.objects.create(playbook=playbook, account=account)
    EnrolmentStepRun.objects.create(enrolment=enrolment, order=1, kind="email", detail=f"Emailed {NAME}")
    Touchpoint.objects.create(
        account=account, contact=contact, channel="email", label=f"Offer to {NAME}", status_reason=f"{EMAIL} bounced"
    )
    ChurnRecord.objects.create(
        account=account, comment=f"{NAME} left for a rival", churned_on=timezone.localdate() - dt.timedelta(days=40),
        source=ChurnSource.FORM, mrr_lost=Decimal("10"),
    )  # fmt: skip
    WinbackSuppression.objects.create(account=account, reason=f"{NAME} asked us to stop")
    ResponseFollowUp.objects.create(response=response, category="detractor", note=f"Called {NAME} back")
    invitation = SurveyInvitationFactory(contact=contact, trigger_key="zq-moment")
    CsmSentiment.objects.create(
        account=account, author=csm, rating=2, comment=f"{NAME} is unhappy", expires_on=timezone.localdate()
    )
    LogEntry.objects.log_actions(
        user_id=csm.pk, queryset=[contact], action_flag=CHANGE, change_message=f"Changed email to {EMAIL}"
    )
    LogEntry.objects.log_actions(user_id=csm.pk, queryset=[task], action_flag=CHANGE, change_message="Changed title.")
    TrackingAlias.objects.get(previous_id=ANON_ID)  # planted by the alias call
    PendingMessage.objects.get(message_id="zq-m-7")
    return {"contact": contact, "colleague": colleague, "response": response, "invitation": invitation}


def plant_bystander() -> Account:
    """Another customer whose data looks like the subject's but is not theirs: nothing of it may change."""
    other = AccountFactory(name="Bystander Co", external_id="zq-acc-77310")
    ContactFactory(account=other, email=BYSTANDER_EMAIL, name=BYSTANDER_NAME, user_id=BYSTANDER_USER)
    ActivityFactory(account=other, body=BYSTANDER_TEXT)
    UsageEvent.objects.create(
        account=other, user_id=BYSTANDER_USER, event_type="login", occurred_at=_at(1), message_id="zq-b-1",
        properties={"note": BYSTANDER_TEXT, "ref": BYSTANDER_USER},
    )  # fmt: skip
    InboundWebhookEvent.objects.create(
        source="helpdesk", event_id="zq-hd-2", type="ticket.created", status="unmatched",
        payload={"ticket": {"requester": {"email": BYSTANDER_EMAIL}}},
    )  # fmt: skip
    return other


def text_columns(model: type[models.Model]) -> list[str]:
    kinds = (models.CharField, models.TextField, models.JSONField, models.FileField)
    return [f.attname for f in model._meta.concrete_fields if isinstance(f, kinds)]


def _without_bystander(text: str) -> str:
    for value in BYSTANDER:
        text = text.replace(value.lower(), " ")
    return text


def tables_mentioning(markers: list[str], *, bystander: bool = False) -> dict[str, list[str]]:
    """Every text, JSON and file column of every model's table, dumped and searched for the markers (past the
    bystander's look-alikes, unless `bystander`)."""
    lowered = [m.lower() for m in markers]
    spellings = {m: {m, json.dumps(m)[1:-1], quote(m).lower(), quote_plus(m).lower()} for m in lowered}
    found: dict[str, list[str]] = {}
    for model in apps.get_models():
        columns = text_columns(model)
        if not columns:
            continue
        for row in model._base_manager.values_list(*columns).iterator():
            text = json.dumps(row, ensure_ascii=False, default=str).lower()
            text = text if bystander else _without_bystander(text)
            hits = [m for m in lowered if any(spelling in text for spelling in spellings[m])]
            if hits:
                found.setdefault(model._meta.label, []).extend(hits)
    return {label: sorted(set(hits)) for label, hits in found.items()}


def files_mentioning(root, markers: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = _without_bystander(path.read_bytes().decode("utf-8", errors="replace").lower())
        hits = [m for m in markers if m.lower() in text]
        if hits:
            found[str(path.relative_to(root))] = hits
    return found


def import_jobs() -> list[ImportJob]:
    return list(ImportJob.objects.order_by("pk"))


def assert_imports_done() -> None:
    assert set(ImportJob.objects.values_list("status", flat=True)) == {ImportStatus.DONE}
    assert ImportRowError.objects.exists()


def read_bundle(chunks) -> dict:
    return json.loads("".join(chunks))


def user(username: str, role: str):
    return UserFactory(username=username, role=role)
