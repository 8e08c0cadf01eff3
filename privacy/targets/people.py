"""The trails (the Django admin's log, the audit trail) and, last, the people and the company themselves."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from accounts.models import Account, Activity, Contact, SupportTicket, SurveyResponse, Task
from audit.models import Action, AuditEntry
from privacy.matching import mentions
from privacy.subjects import ACCOUNT, Subject, erased_account_name, erased_contact_name, erased_text
from privacy.targets._common import Target, scrub_attributes

ACCOUNT_OBJECTS = (Activity, SupportTicket, SurveyResponse, Task)
# Audit entries about these objects hold their field values: all of them are the customer's data.
PERSONAL_OBJECT_TYPES = ("accounts.account", "accounts.contact", "accounts.activity", "accounts.task")
PERSONAL_OBJECT_TYPES += ("accounts.supportticket", "accounts.surveyresponse")


def trail_targets(subject: Subject) -> list[Target]:
    """The Django admin's log and the audit trail: entries about the subject's objects keep who and when, not what."""
    a, who, local = subject.account, subject.identity, subject.local_identity
    whole = subject.kind == ACCOUNT
    contact_type = ContentType.objects.get_for_model(Contact)
    about = Q(content_type=contact_type, object_id__in=[str(pk) for pk in subject.contact_ids])
    # The account's own objects edited in the Django admin: their entries name them (a task's title, a subject).
    of_account = Q(pk__in=[])
    for model in ACCOUNT_OBJECTS:
        ids = model.objects.filter(account=a).annotate(text_id=Cast("pk", CharField())).values("text_id")
        of_account |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    if whole:
        about |= Q(content_type=ContentType.objects.get_for_model(Account), object_id=str(a.pk)) | of_account
    else:
        about |= of_account & mentions("object_repr", "change_message", identity=local)
    audited = Q(object_type="accounts.contact", object_id__in=[str(pk) for pk in subject.contact_ids])
    audited |= Q(object_type="accounts.surveyresponse", object_id__in=[str(pk) for pk in subject.response_ids])
    if whole:
        audited |= Q(object_type__in=PERSONAL_OBJECT_TYPES)
    audited |= mentions("object_label", identity=local, json_fields=("changes",))
    return [
        Target(
            "admin.LogEntry",
            LogEntry.objects.filter(about | mentions("object_repr", "change_message", identity=who)),
            {
                "object_repr": erased_text(),
                "change_message": "",
            },
        ),
        Target(
            "audit.AuditEntry",
            AuditEntry.objects.filter(account_id=a.pk).filter(audited).exclude(action=Action.ERASE),
            {
                "changes": {},
                "object_label": "",
            },
            gated=True,
        ),
    ]


def people_targets(subject: Subject) -> list[Target]:
    """Last: the contact rows (kept as anonymous rows) and, for an account, its own identifying fields."""
    a = subject.account
    tombstone = {
        "email": "",
        "name": erased_contact_name(),
        "title": "",
        "user_id": "",
        "external_id": "",
        "traits": {},
        "unsubscribed": True,
        "is_primary": False,
    }
    others = Contact.objects.filter(account=a).exclude(pk__in=subject.contact_ids)
    targets = [
        Target(
            "accounts.Contact",
            others.filter(mentions(identity=subject.local_identity, json_fields=("traits",))),
            {"traits": {}},
        ),
        Target("accounts.Contact", Contact.objects.filter(pk__in=subject.contact_ids), tombstone),
    ]
    if subject.kind == ACCOUNT:
        targets.append(
            Target(
                "accounts.Account",
                Account.objects.filter(pk=a.pk),
                {
                    "name": erased_account_name(a.pk),
                    "domain": "",
                    "external_id": f"erased-{a.pk}",
                    "billing_customer_id": "",
                    "custom_attributes": {},
                },
            )
        )
    else:
        mentioned = Account.objects.filter(pk=a.pk).filter(
            mentions(identity=subject.local_identity, json_fields=("custom_attributes",))
        )
        targets.append(Target("accounts.Account", mentioned, scrub_attributes(subject)))
    return targets
