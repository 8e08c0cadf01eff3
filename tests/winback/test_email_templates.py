"""Survey, review, dunning and win-back mail comes from editable automations email templates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import BillingEvent
from messaging.models import EmailMessage, EmailTemplate
from tests.factories import ContactFactory
from tests.winback.factories import ChurnRecordFactory, SurveyInvitationFactory, reason
from winback import services, texts
from winback.forms import CampaignForm
from winback.models import ReleaseNote, SurveyInvitation
from winback.services import dunning

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(own_account):
    return ContactFactory(account=own_account, is_primary=True, name="Dana Reyes", email="dana@example.com")


def edit(key: str, **fields) -> EmailTemplate:
    template = EmailTemplate.objects.get(key=key)
    for name, value in fields.items():
        setattr(template, name, value)
    template.save()
    return template


def test_migration_seeds_every_template_with_the_default_text():
    stored = {t.key: (t.name, t.subject, t.body_text) for t in EmailTemplate.objects.filter(key__startswith="winback-")}
    assert stored == texts.DEFAULTS


class TestSurveyMail:
    def test_an_edited_survey_template_is_what_gets_sent_with_the_tokenised_link(
        self, contact, django_capture_on_commit_callbacks
    ):
        template = edit(
            "winback-survey-nps",
            subject="Quick one, {{ contact.first_name }}",
            body_text="Two clicks for {{ account.name }}: {{ survey.url }} (until {{ survey.expires_on }})",
        )
        with django_capture_on_commit_callbacks(execute=True):
            invitation = services.survey_invite(contact=contact, kind="nps")
        message = EmailMessage.objects.get()
        assert message.template == template and message.subject == "Quick one, Dana"
        assert f"/survey/{invitation.token}/" in message.body_text and "Two clicks for Acme Mail" in message.body_text
        assert f"until {invitation.expires_at.date():%Y-%m-%d}" in message.body_text
        sent = mail.outbox[-1]
        assert sent.subject == "Quick one, Dana" and invitation.token in sent.body
        assert "Unsubscribe: " in sent.body  # the automations outbox adds the unsubscribe link

    def test_html_body_escapes_customer_values_and_tracks_the_survey_link(
        self, contact, own_account, django_capture_on_commit_callbacks
    ):
        own_account.name = "<script>x</script> Ltd"
        own_account.save()
        edit("winback-survey-csat", body_html='<p>{{ account.name }}</p><a href="{{ survey.url }}">Answer</a>')
        with django_capture_on_commit_callbacks(execute=True):
            services.survey_invite(contact=contact, kind="csat")
        message = EmailMessage.objects.get()
        assert "&lt;script&gt;x&lt;/script&gt; Ltd" in message.body_html and "<script>" not in message.body_html
        html = mail.outbox[-1].alternatives[0][0]
        assert "/e/c/" in html and "/e/o/" in html  # click redirect and open pixel
        assert "<script>" not in html

    def test_reminder_uses_the_edited_template_with_the_reminder_prefix(self, contact):
        edit("winback-survey-nps", subject="Still curious, {{ contact.first_name }}")
        SurveyInvitationFactory(contact=contact, sent_at=timezone.now() - dt.timedelta(days=10))
        assert services.survey_reminders_send() == 1
        assert EmailMessage.objects.get().subject == "Reminder: Still curious, Dana"

    def test_a_removed_template_falls_back_to_the_default_text(self, contact):
        EmailTemplate.objects.filter(key="winback-survey-nps").delete()
        invitation = services.survey_invite(contact=contact, kind="nps")
        message = EmailMessage.objects.get()
        assert message.template is None and invitation.token in message.body_text
        assert message.subject == "Dana, how likely are you to recommend us?"

    def test_suppressed_address_is_not_mailed_whatever_the_template(self, contact):
        from messaging.models import Suppression

        Suppression.objects.create(email=contact.email)
        services.survey_invite(contact=contact, kind="nps")
        assert EmailMessage.objects.get().status == "suppressed" and mail.outbox == []


class TestWinbackMail:
    def test_release_note_campaign_uses_the_edited_template_and_names_the_reason(self):
        edit(
            "winback-release-note",
            subject="{{ winback.what_changed }} shipped",
            body_text="You left over {{ churn.reason }}. "
            "{{ winback.what_changed }} is here: {{ winback.release_note_url }}",
        )
        record = ChurnRecordFactory(reason=reason("missing_integration"))
        ContactFactory(account=record.account, is_primary=True)
        note = ReleaseNote.objects.create(title="Shopify sync", url="https://example.com/shopify")
        services.release_note_publish(note=note, reason_codes=["missing_integration"])
        message = EmailMessage.objects.get()
        assert message.subject == "Shopify sync shipped"
        assert (
            message.body_text == "You left over missing integration. Shopify sync is here: https://example.com/shopify"
        )

    def test_new_campaign_form_starts_from_the_campaign_template(self):
        edit("winback-campaign", subject="About {{ churn.reason }}", body_text="{{ winback.offer_line }}")
        form = CampaignForm()
        assert form.fields["subject"].initial == "About {{ churn.reason }}"
        assert form.fields["body"].initial == "{{ winback.offer_line }}"

    def test_dunning_mail_uses_the_edited_template(self, contact, own_account, settings):
        settings.WINBACK_CARD_UPDATE_URL = "https://pay.example/update"
        edit("winback-dunning", body_text="Card update for {{ account.name }}: {{ dunning.card_update_url }}")
        BillingEvent.objects.create(
            account=own_account, kind="payment_failed", occurred_at=timezone.now(), source_event_id="in_1", details={}
        )
        dunning.dunning_run()
        message = EmailMessage.objects.get(source="dunning")
        assert message.body_text == "Card update for Acme Mail: https://pay.example/update"
        assert message.template.key == "winback-dunning"


class TestTemplatePages:
    def test_our_templates_are_listed_and_editable_on_the_email_template_pages(self, client, manager, contact):
        client.force_login(manager)
        listing = client.get(reverse("messaging:email-list"))
        assert "Survey: NPS invitation" in listing.content.decode()
        template = EmailTemplate.objects.get(key="winback-survey-nps")
        response = client.post(
            reverse("messaging:email-template-edit", args=[template.pk]),
            {
                "key": template.key,
                "name": template.name,
                "subject": "Edited: {{ contact.first_name }}",
                "body_text": "Edited body {{ survey.url }}",
                "body_html": "",
            },
        )
        assert response.status_code == 302
        invitation = services.survey_invite(contact=contact, kind="nps")
        message = EmailMessage.objects.get()
        assert message.subject == "Edited: Dana" and invitation.token in message.body_text
        assert SurveyInvitation.objects.count() == 1
