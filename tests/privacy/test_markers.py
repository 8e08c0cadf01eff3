"""The marker test of issue #21: markers planted in every place personal data can reach all appear in the export,
and after the erasure none is left in any column of any table, nor in any file under MEDIA_ROOT; a bystander's
look-alike data is untouched."""

from __future__ import annotations

import json

import pytest

from accounts.models import Contact, ImportJob, SurveyResponse, UsageEvent
from messaging.models import Notification, WebhookDelivery, WebhookEndpoint
from privacy import selectors
from privacy.services import erase_account, erase_contact
from tests.factories import ActivityFactory
from tests.privacy.planting import (
    BYSTANDER,
    BYSTANDER_EMAIL,
    BYSTANDER_TEXT,
    COMPANY_MARKERS,
    EMAIL,
    NAME,
    PERSON_MARKERS,
    files_mentioning,
    tables_mentioning,
)
from winback.models import SurveyInvitation

pytestmark = pytest.mark.django_db
FILE = "accounts.ImportJob.file"

# Where the planting put the person's markers (each place of PERSONAL_DATA_PLACES that a person's data reaches).
PLANTED_IN = {
    "accounts.Contact", "accounts.Account", "accounts.UsageEvent", "accounts.PendingMessage", "accounts.TrackingAlias",
    "accounts.SurveyResponse", "accounts.SupportTicket", "accounts.Activity", "accounts.Task",
    "accounts.ImportRowError", "accounts.InboundWebhookEvent", "accounts.BillingEvent", "accounts.SavedView",
    "accounts.BulkEdit", "messaging.EmailMessage", "messaging.Suppression", "messaging.Notification",
    "messaging.WebhookDelivery", "automations.RuleExecution", "automations.ActionRun",
    "automations.EnrolmentStepRun", "winback.Touchpoint", "winback.ChurnRecord", "winback.WinbackSuppression",
    "winback.ResponseFollowUp", "health.CsmSentiment", "admin.LogEntry", "audit.AuditEntry",
}  # fmt: skip


def _bundle(obj) -> tuple[str, dict]:
    text = "".join(selectors.export_chunks(selectors.subject_for(obj)))
    return text, json.loads(text)


def _facts(account) -> dict:
    events = UsageEvent.objects.filter(account=account)
    return {
        "events": events.count(),
        "users": events.values("user_id").distinct().count(),
        "types": sorted(events.values_list("event_type", "occurred_at", "message_id")),
        "scores": sorted(SurveyResponse.objects.filter(account=account).values_list("kind", "score", "responded_at")),
        "contacts": Contact.objects.filter(account=account).count(),
    }


def test_the_planting_reaches_every_place(planted, media):
    assert set(tables_mentioning(PERSON_MARKERS)) >= PLANTED_IN
    assert len(files_mentioning(media, PERSON_MARKERS)) == 2  # the contacts CSV and the surveys JSON


def test_every_marker_appears_in_the_contact_export(planted):
    text, bundle = _bundle(planted.contact)
    missing = [m for m in PERSON_MARKERS if m.lower() not in text.lower()]
    assert missing == []
    assert bundle["subject"] == {"kind": "contact", "id": planted.contact.pk, "account": planted.account.pk}
    assert bundle["generated_at"]
    assert set(bundle["places"]) >= PLANTED_IN | {"accounts.ImportJob.file"}
    emails = {row["row"].get("email") or row["row"].get("contact_email") for row in bundle["data"][FILE]}
    assert EMAIL in emails and "other@example.test" not in emails
    assert BYSTANDER_EMAIL not in text and BYSTANDER_TEXT not in text


def test_no_marker_survives_a_contact_erasure(planted, media, admin_user, django_capture_on_commit_callbacks):
    facts = _facts(planted.account)
    with django_capture_on_commit_callbacks(execute=True):
        summary = erase_contact(contact=planted.contact, actor=admin_user, door="ui")
    assert tables_mentioning(PERSON_MARKERS) == {}
    assert files_mentioning(media, PERSON_MARKERS) == {}
    assert {place for place, count in summary.counts.items() if count} >= PLANTED_IN - {"accounts.TrackingAlias"} | {
        "accounts.ImportJob.file"
    }
    assert _facts(planted.account) == facts
    invitation = SurveyInvitation.objects.get(pk=planted.invitation.pk)
    assert invitation.contact_id == planted.contact.pk and not invitation.is_open()


def test_a_contact_erasure_leaves_the_bystander_and_the_other_rows_alone(planted, media, admin_user):
    bystander_before = tables_mentioning(BYSTANDER + [BYSTANDER_TEXT], bystander=True)
    erase_contact(contact=planted.contact, actor=admin_user, door="ui")
    assert tables_mentioning(BYSTANDER + [BYSTANDER_TEXT], bystander=True) == bystander_before
    colleague = Contact.objects.get(pk=planted.colleague.pk)
    assert colleague.name == "Pat Colleague" and colleague.traits == {}
    planted.account.refresh_from_db()
    assert planted.account.custom_attributes == {"tier_note": "gold"}
    assert "Other Person" in "".join(p.read_text() for p in media.rglob("*.csv"))


def test_every_marker_appears_in_the_account_export(planted_account):
    text, bundle = _bundle(planted_account.account)
    missing = [m for m in PERSON_MARKERS + COMPANY_MARKERS if m.lower() not in text.lower()]
    assert missing == []
    assert bundle["data"]["accounts.Subscription"]
    assert NAME in text


def test_no_marker_survives_an_account_erasure(planted_account, media, admin_user, django_capture_on_commit_callbacks):
    account = planted_account.account
    facts = _facts(account)
    with django_capture_on_commit_callbacks(execute=True):
        erase_account(account=account, actor=admin_user, door="api")
    assert tables_mentioning(PERSON_MARKERS + COMPANY_MARKERS) == {}
    assert files_mentioning(media, PERSON_MARKERS + COMPANY_MARKERS) == {}
    assert _facts(account) == facts
    account.refresh_from_db()
    assert (account.external_id, account.domain, account.status) == (f"erased-{account.pk}", "", "active")
    assert ImportJob.objects.filter(kind="subscriptions").get().file.read() == b"account_id,product,start_date,mrr\n"


def test_a_namesake_at_another_account_keeps_their_data(planted, admin_user, csm):
    """Two people may share a name: a name is erased only in rows of the subject's account."""
    other = planted.bystander
    note = ActivityFactory(account=other, body=f"Met {NAME} today")
    endpoint = WebhookEndpoint.objects.first()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="task.created", payload={"title": f"Call {NAME}", "account_id": other.pk}
    )
    notification = Notification.objects.create(user=csm, account=other, title=f"{NAME} answered 9")
    erase_contact(contact=planted.contact, actor=admin_user, door="ui")
    note.refresh_from_db()
    delivery.refresh_from_db()
    notification.refresh_from_db()
    assert NAME in note.body and NAME in delivery.payload["title"] and NAME in notification.title
