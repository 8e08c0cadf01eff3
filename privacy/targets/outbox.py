"""What was sent about the subject (messaging) and what the automations, win-back and health logs wrote."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from automations.models import ActionRun, EnrolmentStepRun, RuleExecution
from health.models import CsmSentiment
from messaging.models import EmailMessage, EmailStatus, Notification, Suppression, WebhookDelivery
from privacy.matching import equals_any, mentions, refers
from privacy.subjects import ACCOUNT, Subject, erased_text
from privacy.targets._common import Target, value_when
from winback.models import ChurnRecord, ResponseFollowUp, SurveyInvitation, Touchpoint, WinbackSuppression


def outbox_targets(subject: Subject) -> list[Target]:
    """What was sent (messaging) and what the automations and win-back logs wrote about the subject."""
    a, who, local = subject.account, subject.identity, subject.local_identity
    whole = subject.kind == ACCOUNT

    def theirs(model, *fields: str):
        """The account's rows: all of them for an account's erasure, those that name the person for a contact's."""
        rows = model.objects.filter(account=a)
        return rows if whole else rows.filter(mentions(*fields, identity=local))

    now = timezone.now()
    sent = (
        Q(contact_id__in=subject.contact_ids)
        | equals_any("to_email", subject.emails, case_sensitive=False)
        | mentions("subject", "body_text", "body_html", identity=who)
        | Q(account=a) & mentions("subject", "body_text", "body_html", identity=local)
    )
    never_sent = [EmailStatus.QUEUED, EmailStatus.UNKNOWN]
    told = mentions("title", "body", identity=who) | Q(account=a) & mentions("title", "body", identity=local)
    return [
        Target(
            "messaging.EmailMessage",
            EmailMessage.objects.filter(sent | Q(account=a) if whole else sent),
            {
                "to_email": "",
                "subject": erased_text(),
                "body_text": "",
                "body_html": "",
                "status_reason": "",
                "status": value_when(Q(status__in=never_sent), EmailStatus.SUPPRESSED, "status"),
            },
        ),
        Target(
            "messaging.Suppression",
            Suppression.objects.filter(equals_any("email", subject.emails, case_sensitive=False)),
            {"email": None},  # the digest stays: a re-imported address is still never emailed
        ),
        Target(
            "messaging.Notification",
            Notification.objects.filter(told | Q(account=a) if whole else told),
            {
                "title": erased_text(),
                "body": "",
            },
        ),
        Target(
            "messaging.WebhookDelivery",
            WebhookDelivery.objects.filter(
                mentions("error", identity=who, json_fields=("payload",))
                | mentions(identity=local, json_fields=("payload",)) & refers("payload", patterns=subject.account_ref)
            ),
            {"payload": {}, "error": ""},
        ),
        Target(
            "automations.RuleExecution",
            RuleExecution.objects.filter(account=a).filter(mentions(identity=local, json_fields=("matched",))),
            {"matched": {}},
        ),
        Target(
            "automations.ActionRun",
            ActionRun.objects.filter(execution__account=a).filter(mentions("detail", identity=local)),
            {"detail": erased_text()},
        ),
        Target(
            "automations.EnrolmentStepRun",
            EnrolmentStepRun.objects.filter(enrolment__account=a).filter(mentions("detail", identity=local)),
            {"detail": erased_text()},
        ),
        Target(
            "winback.Touchpoint",
            Touchpoint.objects.filter(account=a).filter(mentions("label", "status_reason", identity=local)),
            {"label": erased_text(), "status_reason": ""},
        ),
        Target(
            "winback.ChurnRecord",
            theirs(ChurnRecord, "comment"),
            {"comment": ""},
        ),
        Target(
            "winback.WinbackSuppression",
            theirs(WinbackSuppression, "reason"),
            {"reason": ""},
        ),
        Target(
            "winback.ResponseFollowUp",
            ResponseFollowUp.objects.filter(
                Q(response_id__in=subject.response_ids) | Q(response__account=a) & mentions("note", identity=local)
            ),
            {"note": ""},
        ),
        # Not personal data, but a live link would let new answers arrive about someone who is gone.
        Target(
            "winback.SurveyInvitation",
            SurveyInvitation.objects.filter(contact_id__in=subject.contact_ids, responded_at=None, expires_at__gt=now),
            {"expires_at": now},
        ),
        Target(
            "health.CsmSentiment",
            theirs(CsmSentiment, "comment"),
            {"comment": ""},
        ),
    ]
